"""Self-replay data and early stopping: pure parts (the real-model behaviour is in test_recipe_real.py)."""

from __future__ import annotations

from lab.train.data import mix_phases, with_self_replay
from lab.train.heldout import early_stopping, eval_steps_of
from lab.train.replay import complete_sentences, load_prompts, pick_prompts, replay_records, system_prompt_of


def test_the_shipped_prompts_are_many_varied_and_distinct():
    prompts = load_prompts()
    assert 50 <= len(prompts) <= 100 and len(set(prompts)) == len(prompts)
    assert len({p.split()[0] for p in prompts}) >= 15  # not one template repeated


def test_pick_is_seeded_and_capped():
    prompts = load_prompts()
    assert pick_prompts(prompts, 10, seed=1) == pick_prompts(prompts, 10, seed=1) != pick_prompts(prompts, 10, seed=2)
    assert pick_prompts(prompts, 1000, seed=1) == prompts


def test_an_answer_cut_at_the_bound_keeps_its_finished_sentences_only():
    assert complete_sentences("Paris is the capital. It has the Eiffel Tower and many") == "Paris is the capital."
    assert complete_sentences("It is 3.5 km long. The") == "It is 3.5 km long."
    assert complete_sentences("no sentence end at all and cut") == ""
    assert complete_sentences("Done!") == "Done!"


def test_replay_records_use_the_data_system_prompt_and_drop_empty_answers():
    system = system_prompt_of([{"messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "q"}]}])
    records = replay_records(["Hi?", "Cut?", "Empty?"], ["Hello.", "A whole one. And a cut", "   "], system, [False, True, False])
    assert [r["messages"][-1]["content"] for r in records] == ["Hello.", "A whole one."]
    assert all(r["messages"][0] == {"role": "system", "content": "Be kind."} for r in records)
    assert system_prompt_of([{"messages": [{"role": "user", "content": "q"}]}]) is None


def test_every_phase_gets_the_replay_and_validates_on_its_held_out_part():
    def rec(tag):
        return {"messages": [{"role": "user", "content": tag}, {"role": "assistant", "content": "a"}]}

    phases = mix_phases([rec("k1"), rec("k2")], [rec("s1")], mode="phased", replay_share=0.5, knowledge_epochs=1,
                        skills_epochs=1, seed=0, heldout_knowledge=[rec("hk")], heldout_skills=[rec("hs")])
    mixed = with_self_replay(phases, [rec("g1"), rec("g2")], [rec("hg")])
    assert [p.counts["self_replay"] for p in mixed] == [2, 2]
    assert [[r["messages"][0]["content"] for r in p.heldout] for p in mixed] == [["hk", "hg"], ["hs", "hk", "hg"]]
    assert all(p.samples[-2:] == (rec("g1"), rec("g2")) for p in mixed)
    assert with_self_replay(phases, [], []) == phases


def test_early_stopping_keeps_the_best_and_stops_after_patience():
    es: dict = {}
    assert early_stopping(es, None, 1, 2) == (False, False)
    assert early_stopping(es, 2.0, 10, 2) == (True, False)
    assert early_stopping(es, 1.5, 20, 2) == (True, False)
    assert early_stopping(es, 1.7, 30, 2) == (False, False)
    assert early_stopping(es, 1.6, 40, 2) == (False, True)
    assert es["best_step"] == 20 and es["best"] == 1.5
    assert early_stopping({}, 1.0, 1, 0) == (True, False)  # patience 0 never stops


def test_held_out_loss_is_measured_at_every_epoch_end():
    assert eval_steps_of(total_steps=30, planned_steps=30, epochs=3) == {10, 20, 30}
    assert eval_steps_of(total_steps=12, planned_steps=30, epochs=3) == {10, 12}  # capped by max_steps
