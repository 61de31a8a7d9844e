"""Bridges to other evaluation frameworks. Each is a module of its own, imported only when used (its framework is
an optional extra): ``firstday.bridges.inspect`` for inspect_ai (``pip install 'firstday[inspect]'``)."""
