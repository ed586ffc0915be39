@incident-2026-02-06 @control-paper-venue
Feature: Paper mode rejects what KuCoin rejected on February 6
  Incident: Paper trading did not catch: account balance variable mismatch, stop-loss/take-profit API parameter errors, position/price rounding issues

  The incident's paper trading accepted orders KuCoin rejects. In paper mode safetrade trades
  on a paper venue: the fake KuCoin's engine fed with KuCoin's public market data (here a fake
  KuCoin served on 127.0.0.1 plays KuCoin's public side). The same calls meet the same answers,
  and the paper journal keeps each one with KuCoin's code.

  Scenario: The take-profit at 90.1353 is rejected in paper with KuCoin's code and text
    Incident: Take-profit automation failed: `Price increment invalid` (90.1353 instead of 90.14)
    Given KuCoin's public market data shows SOL/USDT at 87.36
    And a paper account with 123 USDT
    When a take-profit stop order selling 1.417 SOL/USDT at 90.1353 is sent to KuCoin as is, through ccxt's raw API
    Then KuCoin rejects it with 400100 "Price increment invalid."
    And the paper journal records the rejection 400100 "Price increment invalid."
    And the paper status counts 1 rejection with code 400100

  Scenario: The hot-fixed stop-loss call is rejected in paper
    Incident: Correct parameters: `type='limit'`, `stop='loss'`, `stop_price=str(price)`
    Given KuCoin's public market data shows SOL/USDT at 87.36
    And a paper account with 123 USDT
    When the incident's hot-fixed stop-loss call is made through ccxt: a "limit" sell of 1.417 SOL with stop "loss" and stop_price 85.61
    Then KuCoin rejects it with 400100 "Parameter Error: price is required for limit orders"
    And the paper journal records the rejection 400100 "Parameter Error: price is required for limit orders"

  Scenario: The $394 entry fills in paper only for what 123 USDT pays, and shows up bare
    Incident: Actual fill: 1.417 SOL ($123.76)
    Given KuCoin's public market data shows SOL/USDT at 87.36
    And a paper account with 123 USDT
    When a market order buying 4.5101 SOL/USDT is sent to KuCoin as is, through ccxt's raw API
    Then the paper journal records an order for 4.5101 SOL that filled 1.4065 SOL
    And the paper status shows a position held without a stop-loss
