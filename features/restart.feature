@control-protective-orders @incident-2026-02-06
Feature: A restarted bot takes its positions back from KuCoin
  The bot keeps its positions in memory only; KuCoin holds no funds for an untriggered stop
  order, so a stop-loss and its take-profit each cover the whole position and only the bot
  cancels one when the other fires. If the bot is down when that happens, the survivor stays
  live on KuCoin and would later sell the coins of the next position. So on start-up (and
  before an entry, if start-up could not read the account) the bot rebuilds its positions from
  KuCoin's stop orders and its SOL balance (the account is dedicated to the bot): a stop-loss
  and a take-profit of the same amount are one position again and are watched as before,
  a take-profit with no stop-loss left and stop-losses covering coins that are gone are
  cancelled before anything new is bought.

  Incident: Status: OPEN, user monitoring

  Background:
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36

  @control-max-open-positions
  Scenario: The stop-loss fired while the bot was down: the take-profit left behind is cancelled before the next entry
    Given the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started
    And the bot holds a protected SOL/USDT position with a stop-loss at 85.61 and a take-profit at 90.00
    And the bot went down
    And SOL/USDT traded at 85.50 while the bot was down, firing the stop-loss of that position
    When the bot is restarted
    Then the take-profit left behind by the closed position is cancelled on KuCoin
    When SOL/USDT trades at 86.00 and the bot buys SOL/USDT with a stop-loss at 84.50 and a take-profit at 92.00 on a signal of 0.5
    Then the position is protected on the exchange
    When SOL/USDT trades at 90.00 and the bot checks its positions
    Then the new position still holds its coins, its stop-loss and its take-profit on KuCoin

  @control-max-open-positions
  Scenario: The take-profit fired while the bot was down: the stop-loss left behind is cancelled and the slot is free
    Given the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started
    And the bot holds a protected SOL/USDT position with a stop-loss at 85.61 and a take-profit at 90.00
    And the bot went down
    And SOL/USDT traded at 90.00 while the bot was down, firing the take-profit of that position
    When the bot is restarted
    Then the stop-loss left behind by the closed position is cancelled on KuCoin
    When SOL/USDT trades at 90.10 and the bot buys SOL/USDT with a stop-loss at 88.00 and a take-profit at 93.00 on a signal of 0.5
    Then the position is protected on the exchange

  Scenario: KuCoin cannot be read when the bot restarts: the take-profit left behind is cancelled before the entry is sent
    Given the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started
    And the bot holds a protected SOL/USDT position with a stop-loss at 85.61 and a take-profit at 90.00
    And the bot went down
    And SOL/USDT traded at 85.50 while the bot was down, firing the stop-loss of that position
    And KuCoin answers the next stop-order listing with a server error
    When the bot is restarted
    Then the owner was alerted that the bot could not read the account at start-up
    When SOL/USDT trades at 86.00 and the bot buys SOL/USDT with a stop-loss at 84.50 and a take-profit at 92.00 on a signal of 0.5
    Then the take-profit left behind by the closed position was cancelled before the entry reached KuCoin
    And the position is protected on the exchange

  Scenario Outline: After a restart the bot still cancels the <other> once the <fired> fires
    Given the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started
    And the bot holds a protected SOL/USDT position with a stop-loss at 85.61 and a take-profit at 90.00
    When the bot is restarted
    Then the restarted bot watches that position
    When SOL/USDT trades at <price> and the bot checks its positions
    Then the <fired> sold the position on KuCoin and the bot cancelled the <other>

    Examples:
      | price | fired       | other       |
      | 85.50 | stop-loss   | take-profit |
      | 90.00 | take-profit | stop-loss   |

  @control-max-open-positions
  Scenario: With two positions open, only the closed one's leftover is cancelled and the other still counts
    Given the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=2
      """
    And the bot has started
    And the bot holds a protected SOL/USDT position with a stop-loss at 85.61 and a take-profit at 90.00
    And the bot holds a protected SOL/USDT position with a stop-loss at 84.00 and a take-profit at 92.00
    And the bot went down
    And SOL/USDT traded at 85.50 while the bot was down, firing the stop-loss of the first position
    When the bot is restarted
    Then the take-profit left behind by the closed position is cancelled on KuCoin
    And the restarted bot watches the second position
    When the bot buys SOL/USDT with a stop-loss at 83.80 and a take-profit at 88.00 on a signal of 0.5
    Then the new position is protected on KuCoin next to the second one
    When the bot buys SOL/USDT with a stop-loss at 83.80 and a take-profit at 88.00 on a signal of 0.5
    Then the trade refusal names "2 position(s) open, MAX_OPEN_POSITIONS is 2"
    And nothing was sent to KuCoin for that trade

  Scenario: The protective orders placed by hand on Feb 6 are watched once the bot starts
    Incident: User manually placed protective orders (SL $85.61, TP $90.00)

    Given the account holds 1.417 SOL with a stop-loss at 85.61 and a take-profit at 90.00 placed by hand on KuCoin
    And SOL/USDT last traded at 86.63
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    When the bot starts
    Then the bot watches the position placed by hand
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then the guard refused it by "max-open-positions"
    And nothing was sent to KuCoin for that trade
    When SOL/USDT trades at 85.50 and the bot checks its positions
    Then the stop-loss sold the position on KuCoin and the bot cancelled the take-profit
