@control-max-order-value
Feature: No single order is worth more than MAX_ORDER_VALUE_USD
  The sizer caps the size so the entry's value stays within MAX_ORDER_VALUE_USD, whatever the
  balance says (on Feb 6 the bot believed it had $10,000 and sized a $394 order). If the capped
  size is below the market's minimum, nothing is sent. A plan above the maximum that reaches
  the guard anyway (a strategy that sized without the cap) is refused before sending.

  Scenario Outline: With <usdt> USDT free and MAX_ORDER_VALUE_USD=<cap> the entry is worth at most <cap> USDT
    Given a KuCoin account with <usdt> USDT free
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      MAX_ORDER_VALUE_USD=<cap>
      """
    And the bot has started
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then the entry sent to KuCoin is worth at most <cap> USDT
    And the sizer limited the size by "<bound>"
    And the position is protected on the exchange

    Examples:
      | usdt  | cap  | bound           |
      | 123   | 25   | max order value |
      | 10000 | 100  | max order value |
      | 10000 | 394  | max order value |
      | 123   | 1000 | risk budget     |

  Scenario: A cap below the market's minimum order size sends nothing
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      MAX_ORDER_VALUE_USD=0.5
      """
    And the bot has started
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then the trade is refused before anything is sent
    And the trade refusal names "below SOL/USDT's minimum amount 0.01 (limited by max order value"
    And the trade refusal names "a larger order would exceed the maximum order value"

  Scenario: A plan sized without the cap is refused by the guard
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      MAX_ORDER_VALUE_USD=25
      """
    And the bot has started
    When a strategy that sizes without the cap asks the bot to buy SOL/USDT at 87.36 with a stop-loss at 85.61 and a take-profit at 90.00
    Then the trade is refused before anything is sent
    And the guard refused it by "max-order-value"
    And the trade refusal names "order value 55.875456 USDT exceeds MAX_ORDER_VALUE 25"
