"""Deterministic, seedable, streaming generators of synthetic sales and bank exports and shop event logs."""

from segmart.generate.bank import BANK_PRODUCTS, generate_bank
from segmart.generate.events import EventStats, PlantedAnomaly, generate_events
from segmart.generate.sales import generate_sales

__all__ = ["BANK_PRODUCTS", "EventStats", "PlantedAnomaly", "generate_bank", "generate_events", "generate_sales"]
