@incident-2026-02-06
Feature: Live trading runs only the code that was certified
  Incident: All fixes deployed while position was open and losing money

  On February 6 fixes went live 17 minutes after the bugs were found, with a position open,
  checked only by running the bot again. Live start-up now verifies a signed certification
  of the exact code about to run before it opens any exchange connection: a one-character
  hotfix after certification means no live trading until the suite has passed again.

  Background:
    Given a KuCoin account with 123 USDT free
    And SOL/USDT last traded at 87.36
    And the environment:
      """
      TRADING_MODE=live
      ACCOUNT_BALANCE_USD=123
      RISK_PERCENT=1
      MAX_OPEN_POSITIONS=1
      """
    And the bot's KuCoin API keys are in the environment

  @control-code-binding
  Scenario: Live start-up accepts a valid certification of the running code
    Incident: Fix deployment: 17 minutes from discovery to validation
    Given a valid certification of the running code, signed by a trusted key
    When the bot starts
    Then the bot started and connected to the exchange once

  @control-code-binding
  Scenario Outline: A one-character change to <file> after certification stops live start-up
    Incident: Risk: Code changes while trading could introduce new bugs
    Given a certification signed by a trusted key, taken before a one-character change to <part> file "<file>"
    When the bot starts
    Then start-up is refused
    And the refusal says "<check>"
    And the refusal says "changed: <file>"
    And the refusal says "re-run `tox -e certify`"
    And the bot never connected to the exchange

    Examples:
      | part      | file       | check                     |
      | safetrade | rounder.py | safetrade code            |
      | safetrade | sizer.py   | safetrade code            |
      | bot       | bot.py     | bot package               |

  @control-code-binding
  Scenario: Live start-up without a certificate is refused
    Incident: System skipped 7-30 day paper trading validation requirement
    When the bot starts
    Then start-up is refused
    And the refusal says "SAFETRADE_CERTIFICATE is not set"
    And the bot never connected to the exchange

  @control-code-binding
  Scenario: An expired certification stops live start-up
    Incident: Minimum Requirements: What must be validated before next live trade?
    Given a valid certification of the running code, signed by a trusted key
    When the bot starts 31 days after it was certified
    Then start-up is refused
    And the refusal says "freshness: expired"
    And the bot never connected to the exchange

  @control-code-binding
  Scenario: Paper mode starts without a certification
    Incident: Paper trading tested successfully (simulated trades executed correctly)
    Given the environment:
      """
      TRADING_MODE=paper
      """
    When the bot starts
    Then the bot started and connected to the exchange once
