"""The input contracts are data: the document is generated from them, and they describe the tables the schema holds."""

import duckdb

from feedtrain import contract
from realgraph_assets.resources import SQL_DIR as REALGRAPH_SQL


def test_the_input_contract_document_is_generated_from_the_contracts():
    assert contract.DOC.read_text() == contract.markdown(contract.all_contracts()), \
        "docs/input_contract.md is stale: run `python -m feedtrain.contract > docs/input_contract.md`"


def test_realgraph_contract_matches_the_stored_raw_tables():
    """Each contract column is a column of the stored table, with the same type (the door casts to it)."""
    conn = duckdb.connect()
    conn.execute((REALGRAPH_SQL / "schema.sql").read_text())
    realgraph = next(c for c in contract.all_contracts() if c.location == "realgraph")
    for table in realgraph.tables:
        stored = dict(conn.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                                   f"WHERE table_name = '{table.name}'").fetchall())
        assert {c.name: c.type for c in table.columns} == stored, table.name
