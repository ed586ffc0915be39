"""The February 6, 2026 incident, replayed against the fake KuCoin (one feature per failure)."""

from pytest_bdd import scenarios

scenarios(
    "wrong_env_key.feature",
    "stop_loss_params.feature",
    "price_increment.feature",
    "oversize_position.feature",
    "code_binding.feature",
)
