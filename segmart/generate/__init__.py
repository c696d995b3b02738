"""Deterministic, seedable, streaming generators of synthetic sales and bank exports."""

from segmart.generate.bank import BANK_PRODUCTS, generate_bank
from segmart.generate.sales import generate_sales

__all__ = ["BANK_PRODUCTS", "generate_bank", "generate_sales"]
