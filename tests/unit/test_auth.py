"""The credential key: how a presented credential is looked up (fixtures) and stored (issued tokens);
what an HTTP Basic value carries."""

import base64

from hypothesis import given
from hypothesis import strategies as st

from mocks.auth import _BASIC_SEEN, _BASIC_SEEN_LONGEST, _BASIC_SEEN_MAX, _basic_credentials, credential_key

NAMES = st.text("ABCabc_", min_size=1, max_size=6)
VALUES = st.text(st.characters(exclude_characters="\x1e\x1f"), max_size=10)


@given(values=st.dictionaries(NAMES, VALUES, min_size=1, max_size=3))
def test_a_credential_key_names_every_scheme_and_value_in_name_order(values):
    key = credential_key(values)
    assert [tuple(part.split("\x1e")) for part in key.split("\x1f")] == sorted(values.items())
    assert credential_key(dict(reversed(values.items()))) == key  # the order presented does not matter


def _basic_reference(authorization: str) -> str | None:
    """What an HTTP Basic Authorization value carries, decoded afresh (RFC 7617; None: not Basic)."""
    prefix, _, value = authorization.partition(" ")
    if prefix.lower() != "basic" or not value:
        return None
    try:
        return base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except ValueError:
        return None


BASIC_VALUES = st.one_of(
    st.text(max_size=20),
    st.builds(lambda prefix, raw: f"{prefix} " + base64.b64encode(raw).decode(),
              st.sampled_from(["Basic", "basic", "BASIC", "Bearer"]), st.binary(max_size=12)),
)


@given(values=st.lists(BASIC_VALUES, min_size=1, max_size=5))
def test_basic_credentials_are_what_the_value_carries_the_first_time_and_every_time_after(values):
    for authorization in values + values:  # seen before or not, the answer is the same
        assert _basic_credentials(authorization) == _basic_reference(authorization)


def test_the_basic_credentials_a_process_remembers_stay_bounded_however_many_values_clients_send():
    for n in range(3 * _BASIC_SEEN_MAX):
        authorization = "Basic " + base64.b64encode(f"key-{n}:secret".encode()).decode()
        assert _basic_credentials(authorization) == f"key-{n}:secret"
        assert len(_BASIC_SEEN) <= _BASIC_SEEN_MAX


def test_a_basic_value_longer_than_any_real_credential_is_decoded_but_not_remembered():
    secret = "s" * (2 * _BASIC_SEEN_LONGEST)
    authorization = "Basic " + base64.b64encode(f"key:{secret}".encode()).decode()
    assert _basic_credentials(authorization) == f"key:{secret}"
    assert authorization not in _BASIC_SEEN
    assert sum(len(value) for value in _BASIC_SEEN) <= _BASIC_SEEN_MAX * _BASIC_SEEN_LONGEST
