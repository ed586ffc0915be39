@incident-2026-02-06
Feature: A misspelt balance key never turns $123 into $10,000
  Incident: `main.py` reads: `ACCOUNT_BALANCE_USD` (not found → defaulted to 10000)

  On February 6 the bot believed it had $10,000 because the .env file said ACCOUNT_BALANCE
  and the code read ACCOUNT_BALANCE_USD. Settings are strict now: a missing money key is an
  error, its near miss is named, and the exchange's own balance is the source of truth.

  @control-config-strict
  Scenario: Live start-up refuses a .env that says ACCOUNT_BALANCE instead of ACCOUNT_BALANCE_USD
    Incident: `.env` file: `ACCOUNT_BALANCE=123`
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    And a .env file:
      """
      TRADING_MODE=live
      ACCOUNT_BALANCE=123
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot's KuCoin API keys are in the environment
    And a valid certification of the running code, signed by a trusted key
    When the bot starts
    Then start-up is refused
    And the refusal says "1 setting problem(s)"
    And the refusal says "found ACCOUNT_BALANCE=123"
    And the refusal says "did you mean ACCOUNT_BALANCE_USD?"
    And the bot never connected to the exchange

  @control-config-strict
  Scenario: Paper mode refuses the same near miss instead of ignoring it
    Incident: `.env` file: `ACCOUNT_BALANCE=123`
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    And a .env file:
      """
      TRADING_MODE=paper
      ACCOUNT_BALANCE=123
      """
    When the bot starts
    Then start-up is refused
    And the refusal says "did you mean ACCOUNT_BALANCE_USD?"
    And the bot never connected to the exchange

  @control-config-strict
  Scenario: Live start-up without any balance key is refused, never defaulted
    Incident: `main.py` reads: `ACCOUNT_BALANCE_USD` (not found → defaulted to 10000)
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=live
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot's KuCoin API keys are in the environment
    And a valid certification of the running code, signed by a trusted key
    When the bot starts
    Then start-up is refused
    And the refusal says "ACCOUNT_BALANCE_USD is not set"
    And the bot never connected to the exchange

  @control-balance-check
  Scenario Outline: A configured balance the exchange disagrees with stops the trade, showing both numbers
    Incident: Bot calculated position for $10,000 balance but user had $123
    Given a KuCoin account with <free> USDT free
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=live
      ACCOUNT_BALANCE_USD=<configured>
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot's KuCoin API keys are in the environment
    And a valid certification of the running code, signed by a trusted key
    And the bot has started
    When the bot buys SOL/USDT with a stop-loss at 85.61 and a take-profit at 90.00
    Then the trade is refused before anything is sent
    And the guard refused it by "balance-mismatch"
    And the trade refusal shows both <configured> USDT and <free> USDT

    Examples:
      | configured | free  |
      | 10000      | 123   |
      | 123        | 10000 |

  @control-balance-check
  Scenario: Paper mode without a balance key trades on the exchange's free balance, never 10000
    Incident: Risk calculation: $7.93 = 0.079% → implied $10,037 balance
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
    Then the bot sized the trade from the exchange's free balance of 123 USDT
    And the trade risks at most 1.23 USDT at the stop-loss
    And the entry sent to KuCoin is worth at most 123 USDT
    And the position is protected on the exchange
