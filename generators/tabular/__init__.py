"""Tabular synthesizers: rule-based specs, Gaussian copula, GMM, TVAE and CTGAN.

>>> synth = make_synthesizer("copula", seed=1).fit(df)
>>> synth.sample(1000, conditions={"income": ">50K"}, seed=7)
>>> synth.save("model/"); load_synthesizer("model/").sample(10, seed=7)
>>> generate_from_spec("data/demo_table_spec.yaml", n=100, seed=3)

torch and scikit-learn are imported only when a model that needs them is fitted or loaded.
"""

from generators.tabular.base import Synthesizer, parse_condition, parse_param, parse_shares
from generators.tabular.constraints import Constraint, parse_constraint
from generators.tabular.factory import load_synthesizer, make_synthesizer, method_params
from generators.tabular.io import read_table
from generators.tabular.registry import methods, register_synthesizer
from generators.tabular.spec import generate_from_spec, load_spec

__all__ = [
    "Constraint", "Synthesizer", "generate_from_spec", "load_spec", "load_synthesizer", "make_synthesizer",
    "method_params", "methods", "parse_condition", "parse_constraint", "parse_param", "parse_shares", "read_table",
    "register_synthesizer",
]
