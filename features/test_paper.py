"""Paper mode against the February 6 incident: the paper venue answers as KuCoin did."""

from pytest_bdd import scenarios

scenarios("paper_mode.feature")
