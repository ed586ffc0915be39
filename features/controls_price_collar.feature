@control-price-collar
Feature: Entries priced far from KuCoin's last price are refused
  A strategy plans from its own price (a candle close, a cached quote, a number typed by hand).
  Before anything is sent the guard compares that price with KuCoin's last traded price and
  refuses an entry outside PRICE_COLLAR_PERCENT. Without a usable reference price it cannot
  tell a sane price from a fat finger, so it refuses: the collar fails closed.

  Background:
    Given a KuCoin account with 123 USDT free
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      PRICE_COLLAR_PERCENT=5
      """

  Scenario Outline: A strategy price of <price>, <distance> from KuCoin's 87.36, is refused
    Given SOL/USDT last traded at 87.36
    And the bot has started
    When a strategy asks the bot to buy SOL/USDT at <price> with a stop-loss at <stop> and a take-profit at <target>
    Then the trade is refused before anything is sent
    And the guard refused it by "price-collar"
    And the trade refusal names "entry <price> is <distance> from the last price 87.36, outside the 5% collar"

    Examples:
      | price  | distance | stop   | target |
      | 873.60 | 900.00%  | 850.00 | 900.00 |
      | 8.74   | 90.00%   | 8.50   | 9.00   |
      | 91.74  | 5.01%    | 89.90  | 94.00  |
      | 82.98  | 5.01%    | 81.30  | 85.50  |

  Scenario Outline: A strategy price of <price>, <distance> from KuCoin's 87.36, is inside the collar and trades
    Given SOL/USDT last traded at 87.36
    And the bot has started
    When a strategy asks the bot to buy SOL/USDT at <price> with a stop-loss at <stop> and a take-profit at <target>
    Then the position is protected on the exchange
    And the guard checked "price-collar" and passed it

    Examples:
      | price | distance | stop  | target |
      | 87.36 | 0%       | 85.61 | 90.00  |
      | 91.72 | 4.99%    | 85.61 | 95.00  |
      | 83.00 | 4.99%    | 81.50 | 90.00  |

  Scenario: Without a last trade on KuCoin the bot sends nothing
    Given SOL/USDT has not traded on KuCoin yet
    And the bot has started
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then the trade is refused before anything is sent
    And the trade refusal names "SOL/USDT has no usable last price"

  Scenario Outline: A reference price of <reference> cannot check an entry, so the guard refuses it
    Given SOL/USDT last traded at 87.36
    And the bot has started
    When a strategy asks the bot to buy SOL/USDT at 87.36 with a stop-loss at 85.61 and a take-profit at 90.00 against a reference price of <reference>
    Then the trade is refused before anything is sent
    And the guard refused it by "price-collar"
    And the trade refusal names "no usable last price (<shown>) to check the entry against"

    Examples:
      | reference | shown |
      | none      | None  |
      | 0         | 0     |
      | -87.36    | -87.36 |
      | NaN       | NaN   |
