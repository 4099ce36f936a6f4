"""The retrain as a typed pipeline: validate -> generate -> train -> evaluate -> gate -> publish.

`lab.pipeline.retrain.retrain(request, target, edges)` runs it; `lab.pipeline.results` holds what each
step returns (TrainSummary, EvalReport, LeafImpact, GateDecision, Release, RetrainResult);
`lab.pipeline.impact` and `lab.pipeline.notes` put the results into words for the PRs.
"""
