@control-protective-orders @incident-2026-02-06
Feature: Network faults while protecting a fill end Protected, Flattened or Halted
  After the entry fills, the bot places a stop-loss and a take-profit, reads both back from
  KuCoin, and if that fails sells the position at market. A timeout, a 5xx, a 429 or a response
  lost after KuCoin accepted the order may hit any of these steps. Whatever happens, the trade
  ends Protected (both orders confirmed on KuCoin), Flattened (no coins left, no orders left)
  or Halted (kill switch engaged, critical alert): never silently bare, and a retry never
  places the same order twice.

  Incident: Position opened without automatic protection

  Background:
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started

  Scenario Outline: A <fault> <times> on the <step> ends <outcome>
    Given KuCoin answers the <step> with a <fault> <times>
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then the protection ended <outcome> on KuCoin
    And KuCoin never received the same order twice

    Examples: one fault, retried with the same clientOid
      | step        | fault            | times | outcome   |
      | stop-loss   | timeout          | once  | Protected |
      | stop-loss   | 500 server error | once  | Protected |
      | stop-loss   | 429 rate limit   | once  | Protected |
      | stop-loss   | lost response    | once  | Protected |
      | take-profit | timeout          | once  | Protected |
      | take-profit | 500 server error | once  | Protected |
      | take-profit | 429 rate limit   | once  | Protected |
      | take-profit | lost response    | once  | Protected |
      | read-back   | timeout          | once  | Protected |
      | read-back   | 500 server error | once  | Protected |
      | read-back   | 429 rate limit   | once  | Protected |
      | read-back   | lost response    | once  | Protected |

    Examples: faults on every attempt: flattened, unless KuCoin had the order all along
      | step        | fault            | times            | outcome   |
      | stop-loss   | timeout          | 3 times in a row | Flattened |
      | stop-loss   | 500 server error | 3 times in a row | Flattened |
      | stop-loss   | 429 rate limit   | 3 times in a row | Flattened |
      | stop-loss   | lost response    | 3 times in a row | Protected |
      | take-profit | timeout          | 3 times in a row | Flattened |
      | take-profit | 500 server error | 3 times in a row | Flattened |
      | take-profit | 429 rate limit   | 3 times in a row | Flattened |
      | take-profit | lost response    | 3 times in a row | Protected |
      | read-back   | timeout          | 3 times in a row | Flattened |
      | read-back   | 500 server error | 3 times in a row | Flattened |
      | read-back   | 429 rate limit   | 3 times in a row | Flattened |
      | read-back   | lost response    | 3 times in a row | Flattened |

  Scenario Outline: A <fault> <times> on the market sale that flattens an unprotectable fill ends <outcome>
    Given KuCoin rejects the stop-loss 3 times with "Parameter Error"
    And KuCoin answers the flatten with a <fault> <times>
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then the protection ended <outcome> on KuCoin
    And KuCoin never received the same order twice

    Examples:
      | fault            | times            | outcome   |
      | timeout          | once             | Flattened |
      | 500 server error | once             | Flattened |
      | 429 rate limit   | once             | Flattened |
      | lost response    | once             | Flattened |
      | timeout          | 3 times in a row | Halted    |
      | 500 server error | 3 times in a row | Halted    |
      | 429 rate limit   | 3 times in a row | Halted    |
      | lost response    | 3 times in a row | Flattened |
