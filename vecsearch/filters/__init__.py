"""Filtered search: turning `filter=` arguments into slot bitmaps, and choosing a plan per query."""
from vecsearch.filters.planner import PLANS, CostModel, QueryPlan, choose_plan

__all__ = ["PLANS", "CostModel", "QueryPlan", "choose_plan"]
