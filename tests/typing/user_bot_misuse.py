# A user's bot, checked with mypy --strict by tests/unit/test_public_types.py: each line
# marked as an error below must be rejected (the lazily loaded names are typed).
from decimal import Decimal

import safetrade as st

st.execute_entry(1, 2)  # error
st.Gateway.kucoin(api_key="k", api_secret="s", api_passphrase="p")  # error: certified missing
protector: st.Protector = st.Protector(None, kill_switch=st.KillSwitch())  # error
outcome: st.Protected = protector.protect(1, stop_price=Decimal(1))  # error
