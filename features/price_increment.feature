@incident-2026-02-06
Feature: Prices and sizes go out on the market's own increments
  Incident: Take-profit automation failed: `Price increment invalid` (90.1353 instead of 90.14)

  On February 6 a take-profit computed as 90.1353 went to SOL-USDT, whose price tick is 0.01,
  and KuCoin answered "Price increment invalid". Increments now come from the market KuCoin
  reports, never from a per-asset table. Prices round in the direction that keeps the trade
  safer: a long's stop-loss up toward the entry (less risk), its take-profit down toward the
  entry (still reachable), so 90.1353 becomes 90.13. Sizes round down: never more than sized.

  @control-rounding
  Scenario: The incident's take-profit of 90.1353 reaches KuCoin as 90.13
    Incident: Price rounding: Take-profit not rounded to 2 decimals before submission
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.1353
    Then the take-profit KuCoin received is a market sell stop order with stop "entry", stopPrice 90.13, the filled size and a clientOid
    And no request KuCoin received carried the price 90.1353
    And the position is protected on the exchange

  @control-rounding
  Scenario Outline: Protective prices are put on <symbol>'s tick of <tick> before they are sent
    Incident: Take-profit automation failed: `Price increment invalid` (90.1353 instead of 90.14)
    Given a KuCoin account with 123 USDT free
    And KuCoin lists <symbol> with price tick <tick>, size step <step>, minimum size <min_size> and minimum order value <min_funds> USDT
    And <symbol> last traded at <last>
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot trading <symbol> has started
    When the bot buys with a stop-loss at <stop> and a take-profit at <target>
    Then the stop-loss KuCoin received is a market sell stop order with stop "loss", stopPrice <sent_stop>, the filled size and a clientOid
    And the take-profit KuCoin received is a market sell stop order with stop "entry", stopPrice <sent_target>, the filled size and a clientOid
    And no request KuCoin received carried the price <target>
    And the entry size KuCoin received is a whole multiple of <step>
    And the entry sent to KuCoin is worth at most 123 USDT
    And the position is protected on the exchange

    Examples:
      | symbol      | tick   | step       | min_size | min_funds | last    | stop     | sent_stop | target   | sent_target |
      | SOL/USDT    | 0.01   | 0.0001     | 0.01     | 0.1       | 87.36   | 85.605   | 85.61     | 90.1353  | 90.13       |
      | BTC/USDT    | 0.1    | 0.00000001 | 0.00001  | 0.1       | 70000.0 | 68600.06 | 68600.1   | 72100.37 | 72100.3     |
      | ADA/USDT    | 0.0001 | 0.01       | 1        | 0.1       | 0.2731  | 0.267638 | 0.2677    | 0.281293 | 0.2812      |
      | BIGMIN/USDT | 0.001  | 0.01       | 0.01     | 50        | 12.34   | 12.0937  | 12.094    | 12.98765 | 12.987      |

  @control-rounding
  Scenario Outline: KuCoin itself rejects a take-profit off <symbol>'s tick of <tick>
    Incident: Take-profit automation failed: `Price increment invalid` (90.1353 instead of 90.14)
    Given a KuCoin account with 123 USDT free
    And KuCoin lists <symbol> with price tick <tick>, size step <step>, minimum size <min_size> and minimum order value <min_funds> USDT
    And <symbol> last traded at <last>
    When a take-profit stop order selling <size> <symbol> at <target> is sent to KuCoin as is, through ccxt's raw API
    Then KuCoin rejects it with 400100 "Price increment invalid."
    And nothing from it is on the exchange

    Examples:
      | symbol      | tick   | step       | min_size | min_funds | last    | size       | target   |
      | SOL/USDT    | 0.01   | 0.0001     | 0.01     | 0.1       | 87.36   | 1.417      | 90.1353  |
      | BTC/USDT    | 0.1    | 0.00000001 | 0.00001  | 0.1       | 70000.0 | 0.00087    | 72100.37 |
      | ADA/USDT    | 0.0001 | 0.01       | 1        | 0.1       | 0.2731  | 207.07     | 0.281293 |
      | BIGMIN/USDT | 0.001  | 0.01       | 0.01     | 50        | 12.34   | 4.54       | 12.98765 |

  @control-rounding
  Scenario Outline: A size off <symbol>'s size step of <step> is rejected by KuCoin and rounded down by safetrade
    Incident: Position sizing: Not rounded to exchange increments (4.9344 SOL invalid for 1-decimal requirement)
    Given a KuCoin account with 1000 USDT free
    And KuCoin lists <symbol> with price tick <tick>, size step <step>, minimum size <step> and minimum order value 0.1 USDT
    And <symbol> last traded at <last>
    When a market order buying 4.9344 <symbol> is sent to KuCoin as is, through ccxt's raw API
    Then KuCoin rejects it with 400100 "Order size increment invalid."
    And safetrade rounds 4.9344 down to <rounded> for <symbol>, and KuCoin fills that order

    Examples:
      | symbol      | tick   | step | last   | rounded |
      | SOL/USDT    | 0.01   | 0.1  | 87.36  | 4.9     |
      | ADA/USDT    | 0.0001 | 0.01 | 0.2731 | 4.93    |
      | BIGMIN/USDT | 0.001  | 1    | 12.34  | 4       |

  @control-rounding @control-position-sizing
  Scenario Outline: A position below <symbol>'s minimum order value of <min_funds> USDT is refused, never enlarged
    Incident: Position sizing: Not rounded to exchange increments (4.9344 SOL invalid for 1-decimal requirement)
    Given a KuCoin account with 123 USDT free
    And KuCoin lists <symbol> with price tick <tick>, size step <step>, minimum size <step> and minimum order value <min_funds> USDT
    And <symbol> last traded at <last>
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot trading <symbol> has started
    When the bot buys with a stop-loss at <stop> and a take-profit at <target>
    Then the trade is refused before anything is sent
    And the trade refusal names the minimum order value <min_funds> USDT

    Examples:
      | symbol      | tick  | step | min_funds | last  | stop    | target   |
      | BIGMIN/USDT | 0.001 | 0.01 | 60        | 12.34 | 12.0937 | 12.98765 |
      | BIGMIN/USDT | 0.001 | 0.01 | 100       | 12.34 | 12.0937 | 12.98765 |
      | SOL/USDT    | 0.01  | 0.01 | 100       | 87.36 | 85.61   | 90.1353  |
