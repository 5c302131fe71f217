"""The questions pages and the API ask, as pydantic query models, and the one parser that reads
them from a request (issue 19, item 1): a page and its endpoint read the same model, so a bad
value is the same refusal — 422 `invalid_request` naming the field — on both."""
