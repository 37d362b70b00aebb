"""The credential key: how a presented credential is looked up (fixtures) and stored (issued tokens)."""

from hypothesis import given
from hypothesis import strategies as st

from mocks.auth import credential_key

NAMES = st.text("ABCabc_", min_size=1, max_size=6)
VALUES = st.text(st.characters(exclude_characters="\x1e\x1f"), max_size=10)


@given(values=st.dictionaries(NAMES, VALUES, min_size=1, max_size=3))
def test_a_credential_key_names_every_scheme_and_value_in_name_order(values):
    key = credential_key(values)
    assert [tuple(part.split("\x1e")) for part in key.split("\x1f")] == sorted(values.items())
    assert credential_key(dict(reversed(values.items()))) == key  # the order presented does not matter
