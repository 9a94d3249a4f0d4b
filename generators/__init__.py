"""synthcat's generators: everything that makes new data, landing it in a catalog.

    from catalog import Catalog
    from generators import GenerationConfig, generate_text, synthesize_table

    with Catalog.open("my-catalog") as cat:
        report = generate_text(cat, GenerationConfig(dataset="support-gen", n=20, ground_on=["support-seed"]))
        table = synthesize_table(cat, "customers-syn", source="customers", method="copula", n=1000)

Chat models (``load_chat_model``) and tabular synthesizers (``generators.tabular``) are usable on
their own too. Models load on first use, not on import.
"""

from generators.chat import ChatModel, load_chat_model
from generators.table_synthesis import SynthesisResult, synthesize_table
from generators.text.grounded import (
                                      GenerationConfig,
                                      GenerationIncomplete,
                                      GenerationReport,
                                      generate_text,
                                      resume_generation,
)

__all__ = ["ChatModel", "GenerationConfig", "GenerationIncomplete", "GenerationReport", "SynthesisResult",
           "generate_text", "load_chat_model", "resume_generation", "synthesize_table"]
