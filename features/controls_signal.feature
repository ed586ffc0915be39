@control-signal-threshold
Feature: Signals below MIN_SIGNAL_STRENGTH never become orders
  A weak signal is refused by the guard before anything is sent; a signal at the threshold
  trades and is protected, so the check is a threshold and not a switch that is always off.
  With a threshold configured, a trade without any signal is refused too.

  Background:
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 86.63
    And the environment:
      """
      TRADING_MODE=paper
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      MIN_SIGNAL_STRENGTH=0.10
      """
    And the bot has started

  @incident-2026-02-06
  Scenario Outline: A signal of <signal> is below the 0.10 threshold and is refused before sending
    Incident: REJECTED second trade: signal below 0.10 threshold

    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of <signal>
    Then the trade is refused before anything is sent
    And the guard refused it by "signal-threshold"
    And the trade refusal names "signal <signal> is below MIN_SIGNAL_STRENGTH 0.10"

    Examples:
      | signal |
      | 0.099  |
      | 0.0999 |
      | 0      |
      | -0.5   |

  Scenario Outline: A signal of <signal> meets the 0.10 threshold and the position is protected
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00 on a signal of <signal>
    Then the position is protected on the exchange
    And the guard checked "signal-threshold" and passed it

    Examples:
      | signal |
      | 0.10   |
      | 0.100  |
      | 0.75   |

  Scenario: A trade without any signal is refused when a threshold is configured
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00
    Then the trade is refused before anything is sent
    And the guard refused it by "signal-threshold"
    And the trade refusal names "no signal strength given; MIN_SIGNAL_STRENGTH is 0.10"
