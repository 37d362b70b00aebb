"""The admin API under /__mock/: inspect and steer a running sandbox (`table`: router and helpers;
`sandbox`: info, reset, seed, state, journal, OpenAPI; `steer`: clock, faults, limits, events,
deliveries, scenarios). Importing this package registers nothing: `mocks.app` imports the route modules.
"""
