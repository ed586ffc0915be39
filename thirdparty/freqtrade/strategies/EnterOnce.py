"""A trivial freqtrade strategy for the fake-KuCoin integration test: enter long once.

The stop-loss on exchange is the thing under test; the strategy only has to get a position.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from freqtrade.strategy import IStrategy
from pandas import DataFrame


class EnterOnce(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1m"
    stoploss = -0.05  # stop at 95 for an entry at 100
    minimal_roi: ClassVar[dict[str, float]] = {"0": 10}  # never sells on ROI during the test
    trailing_stop = False
    process_only_new_candles = False
    startup_candle_count = 0
    use_exit_signal = False
    can_short = False
    order_types: ClassVar[dict[str, Any]] = {
        "entry": "market",
        "exit": "market",
        "stoploss": "market",
        "stoploss_on_exchange": True,
        "stoploss_on_exchange_interval": 5,
    }
    entered = False

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe["enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe["exit_long"] = 0
        return dataframe

    def confirm_trade_entry(
        self,
        pair: str,
        order_type: str,
        amount: float,
        rate: float,
        time_in_force: str,
        current_time: datetime,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> bool:
        # one trade only: after its stop-loss closes it, the test judges the exchange
        if EnterOnce.entered:
            return False
        EnterOnce.entered = True
        return True
