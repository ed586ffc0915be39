@incident-2026-02-06
Feature: The stop-loss reaches KuCoin in a form KuCoin accepts, or the position is closed
  Incident: Stop-loss automation failed: `missing 2 required positional arguments: 'type' and 'stop_price'`

  On February 6 the stop-loss call crashed inside the bot, the failure was logged as a
  warning, and the owner placed the stop-loss by hand. Protective orders are now KuCoin stop
  orders built from validated values, read back from the exchange after placing, retried with
  corrected parameters when KuCoin rejects them, and the position is sold at market when
  protection cannot be had. The owner hears about every failure in KuCoin's own words.

  @control-protective-orders
  Scenario: The stop-loss is sent as a KuCoin stop order with stop, stopPrice and clientOid
    Incident: Stop-loss API: Used `stop='loss', stopPrice=` instead of `type='limit', stop='loss', stop_price=`
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00
    Then the stop-loss KuCoin received is a market sell stop order with stop "loss", stopPrice 85.61, the filled size and a clientOid
    And the take-profit KuCoin received is a market sell stop order with stop "entry", stopPrice 90.00, the filled size and a clientOid
    And the position is protected on the exchange

  @control-protective-orders
  Scenario: KuCoin rejects the incident's hot-fixed stop-loss call
    Incident: Correct parameters: `type='limit'`, `stop='loss'`, `stop_price=str(price)`
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    When the incident's hot-fixed stop-loss call is made through ccxt: a "limit" sell of 1.417 SOL with stop "loss" and stop_price 85.61
    Then KuCoin rejects it with 400100 "Parameter Error: price is required for limit orders"
    And nothing from it is on the exchange

  @control-protective-orders
  Scenario: KuCoin rejects a stop-loss without a stop price
    Incident: Stop-loss automation failed: `missing 2 required positional arguments: 'type' and 'stop_price'`
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    When a stop-loss selling 1.417 SOL is sent to KuCoin through ccxt's raw API with stop "loss" but no stopPrice
    Then KuCoin rejects it with 400100 "Parameter Error: stopPrice is required"
    And nothing from it is on the exchange

  @control-protective-orders
  Scenario: A stop-loss KuCoin rejects is corrected and placed again, not left out
    Incident: User manually placed protective orders (SL $85.61, TP $90.00)
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started
    And the bot has loaded KuCoin's markets
    And KuCoin then changes SOL/USDT's price tick to 0.1
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00
    Then the owner was alerted with KuCoin's own message "Price increment invalid."
    And the stop-loss on KuCoin triggers at 85.7
    And the take-profit on KuCoin triggers at 90.0
    And the position is never left bare

  @control-protective-orders
  Scenario: A stop-loss KuCoin keeps rejecting ends with the position sold, not bare
    Incident: Position opened without automatic protection
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started
    And KuCoin rejects the next 3 stop orders with 400100 "Parameter Error: stopPrice is required"
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00
    Then the owner was alerted with KuCoin's own message "Parameter Error: stopPrice is required"
    And the position was sold at market and no stop order is left on KuCoin
    And the position is never left bare

  @control-protective-orders
  Scenario: A stop-loss that cannot be read back from KuCoin is not trusted
    Incident: Deployed to live without validating stop-loss/TP automation
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started
    And KuCoin answers the next 3 stop-order listings with a server error
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00
    Then the position was sold at market and no stop order is left on KuCoin
    And the position is never left bare
