"""Worst-case instances of the (L0,L1) class, certified by construction (THEOREMS.md section 4b)."""
