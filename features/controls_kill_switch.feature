@control-kill-switch
Feature: The kill switch halts all trading until a human clears it
  An engaged kill switch refuses every entry before anything is sent. It is kept in a file, so
  restarting the bot (the usual reflex after an incident) does not re-arm trading, and a state
  file that cannot be read counts as engaged. The protector engages it by itself when a filled
  position can be neither protected nor sold; only a named human clears it, and the coins left
  unprotected still count as an open position until they are dealt with.

  Background:
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36

  Scenario Outline: A kill switch file that is <state> stops every entry after a restart
    Given the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the kill switch file left by the previous run contains:
      """
      <content>
      """
    And the bot has started
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then the trade is refused before anything is sent
    And the guard refused it by "kill-switch"
    And the trade refusal names "<reason>"

    Examples:
      | state                    | content                                                                                              | reason                                           |
      | engaged by the operator  | {"engaged": true, "reason": "operator: exchange maintenance", "since": "2026-02-06T12:56:00+00:00"} | kill switch engaged (operator: exchange maintenance) |
      | engaged without a reason | {"engaged": true}                                                                                    | kill switch engaged (no reason recorded) |
      | cut off mid-write        | {"engaged": tr                                                                                       | unreadable                                       |
      | missing its engaged flag | {"reason": "halted by the protector"}                                                                | unreadable                                       |

  Scenario: Engaging the kill switch stops new entries but leaves the open position protected
    Given the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=2
      """
    And the bot has started
    And the bot already holds 1 protected SOL/USDT positions, bought with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    When an operator engages the kill switch: "operator: fills I do not recognise"
    And the bot tries to buy SOL/USDT again with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then nothing new reaches KuCoin
    And the guard refused it by "kill-switch"
    And the open positions keep their stop-loss and take-profit on KuCoin

  @incident-2026-02-06
  Scenario: A position that can be neither protected nor sold halts trading until a human clears it
    Incident: How many safety layers must fail before trading should halt entirely?

    Given the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the kill switch is kept in a file
    And the bot has started
    And KuCoin rejects the stop-loss 3 times with "Parameter Error" and drops every attempt to sell the position
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then the protection ended Halted with the kill switch engaged
    And a critical alert says the SOL/USDT position may be UNPROTECTED
    When the bot is restarted
    And the bot tries to buy SOL/USDT again with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then nothing new reaches KuCoin
    And the guard refused it by "kill-switch, max-open-positions"
    When "alice" sells the unprotected SOL on KuCoin by hand and clears the kill switch
    And the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of 0.5
    Then the position is protected on the exchange
