@control-max-open-positions
Feature: No new position once MAX_OPEN_POSITIONS are open
  The review asked whether the bot would compound a losing position. It must not: while
  MAX_OPEN_POSITIONS positions are open, the next entry is refused before anything reaches
  KuCoin, and the positions already open keep their stop-loss and take-profit on the exchange.
  The count follows the exchange, not the bot's memory: a restarted bot (the 12:56 validation
  run was one) sees the position it opened, coins without a stop-loss count too (and get the
  next trade's stop-loss and take-profit before anything else is decided), and once a
  stop-loss has closed a position the slot is free again.

  Background:
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36

  @incident-2026-02-06
  Scenario Outline: With <held> of <max> positions open the next entry is refused
    Incident: REJECTED second trade: MAX_OPEN_POSITIONS=1 already reached

    Given the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=<max>
      """
    And the bot has started
    And the bot already holds <held> protected SOL/USDT positions, bought with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    When the bot tries to buy SOL/USDT again with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then nothing new reaches KuCoin
    And the guard refused it by "max-open-positions"
    And the trade refusal names "<held> position(s) open, MAX_OPEN_POSITIONS is <max>"
    And the open positions keep their stop-loss and take-profit on KuCoin

    Examples:
      | held | max |
      | 1    | 1   |
      | 2    | 2   |

  Scenario: A restarted bot counts the position it finds on KuCoin
    Given the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started
    And the bot already holds 1 protected SOL/USDT positions, bought with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    When the bot is restarted
    And the bot tries to buy SOL/USDT again with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then nothing new reaches KuCoin
    And the guard refused it by "max-open-positions"
    And the open positions keep their stop-loss and take-profit on KuCoin

  @control-protective-orders
  Scenario: Coins on KuCoin that no stop-loss covers are protected at start-up and count as an open position
    Given the account also holds 0.6396 SOL that no stop-loss covers
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started
    Then the 0.6396 SOL are protected on KuCoin by a stop-loss at 86.49, RISK_PERCENT below the last price, and no take-profit
    When the bot tries to buy SOL/USDT again with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then no entry reaches KuCoin
    And the guard refused it by "max-open-positions"

  Scenario: Below the limit the next entry is sent and protected next to the open one
    Given the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=2
      """
    And the bot has started
    And the bot already holds 1 protected SOL/USDT positions, bought with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    When the bot tries to buy SOL/USDT again with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then the new position is protected on KuCoin next to the open ones
    And the guard checked "max-open-positions" and passed it

  Scenario: Once the stop-loss has closed the position a new entry is allowed again
    Given the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot has started
    And the bot already holds 1 protected SOL/USDT positions, bought with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    When SOL/USDT trades at 85.50 and the bot checks its positions
    Then the stop-loss sold the position on KuCoin and the bot cancelled the take-profit
    When the bot buys SOL/USDT with a stop-loss at 83.80 and a take-profit at 88.00 on a signal of 0.5
    Then the position is protected on the exchange

  @control-signal-threshold @incident-2026-02-06
  Scenario: The 12:56 validation run: a weak signal while the position is open
    Incident: REJECTED second trade: signal below 0.10 threshold; REJECTED second trade: MAX_OPEN_POSITIONS=1 already reached

    Given the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      MIN_SIGNAL_STRENGTH=0.10
      """
    And the bot has started
    And the bot already holds 1 protected SOL/USDT positions, bought with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    And SOL/USDT last traded at 86.63
    When the bot is restarted
    And the bot tries to buy SOL/USDT again with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.099
    Then nothing new reaches KuCoin
    And the guard refused it by "max-open-positions, signal-threshold"
    And the open positions keep their stop-loss and take-profit on KuCoin
