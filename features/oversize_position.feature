@incident-2026-02-06
Feature: A $123 account never sends a $394 order
  Incident: Calculated: 4.5 SOL ($394 position size)

  On February 6 the bot sized 4.5 SOL ($394) for a $123 account, and only KuCoin's refusal to
  spend money the account did not have kept it from a 320 % position. Now the size follows
  from the exchange's free balance, the stop distance and the risk limit, it is capped so that
  the order plus KuCoin's 0.1 % fee fits in the free balance, the guard re-checks the cost
  before anything is sent, and protection is sized to what actually filled.

  @control-position-sizing @control-balance-check
  Scenario: The incident's trade is sized from the $123 KuCoin reports
    Incident: Actual fill: 1.417 SOL ($123.76)
    Given a KuCoin account with 123 USDT free that fills market orders only up to what the balance pays for
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=live
      ACCOUNT_BALANCE_USD=123
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot's KuCoin API keys are in the environment
    And a valid certification of the running code, signed by a trusted key
    And the bot has started
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00
    Then the bot ordered 0.6396 SOL, not 4.5 SOL
    And the trade risks at most 1.23 USDT at the stop-loss
    And the entry sent to KuCoin costs at most 123 USDT including KuCoin's fee
    And the entry filled completely: KuCoin did not have to cut it down
    And the stop-loss and the take-profit each cover exactly 0.6396 SOL

  @control-position-sizing @control-balance-check
  Scenario: A tight stop cannot push the position past the free balance
    Incident: 4.5 SOL = $394 position on $123 balance = 320% over-leveraged
    Given a KuCoin account with 123 USDT free that fills market orders only up to what the balance pays for
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started
    When the bot buys SOL/USDT with a stop-loss at 86.90 and a take-profit at 90.00
    Then the bot ordered 1.4065 SOL, not 1.417 SOL
    And the entry sent to KuCoin costs at most 123 USDT including KuCoin's fee
    And the entry filled completely: KuCoin did not have to cut it down
    And the position is protected on the exchange

  @control-balance-check @control-position-sizing
  Scenario: A position worth more than the free balance is refused before it is sent
    Incident: Balance validation: No pre-trade check if position value exceeds account balance
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    And a plan to buy 4.5 SOL at 87.36 with a stop-loss at 85.61, sized as if the account held 10000 USDT
    When the pre-trade checks run on it against the account, and it is sent only if they pass
    Then the guard refused the plan by "balance-check, risk-limit"
    And the refusal shows the order's cost 393.51312 USDT and the 123 USDT free
    And nothing was sent to KuCoin

  @control-position-sizing @control-protective-orders
  Scenario: A partial fill is protected for what filled, not for what was ordered
    Incident: Status: FILLED (partial - exchange safety limit)
    Given a KuCoin account with 123 USDT free whose order book offers only 0.3198 SOL at each price
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00
    Then KuCoin filled only 0.3198 SOL of the 0.6396 SOL ordered
    And the stop-loss and the take-profit each cover exactly 0.3198 SOL
    And the position is never left bare
