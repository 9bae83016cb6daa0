using HmmRnn.Analysis.Ibl;
using HmmRnn.Core;
using HmmRnn.Core.Ibl;

namespace HmmRnn.Golden;

/// <summary>
/// The IBL task and its Bayesian agents against the paper (Schaeffer et al. 2020) and analytic
/// derivations. Simulated numbers rest on 20 sessions × 1,000 trials (20,000 trials) at a fixed seed.
/// </summary>
public class IblGolden
{
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<IblTrialRecord>> Runs =
        new[] { "markov", "semi-markov", "forced" }.ToDictionary(n => n,
            n => (IReadOnlyList<IblTrialRecord>)IblSimulation.RunSessions(IblTaskConfig.Paper, BayesianAgent.Named(n), 20, 1000, Rng.FromSeed(2020)));

    [Fact]
    public void Reference_code_actor_scores_the_papers_86_4_percent()
    {
        // SPEC B3: the Bayesian actor's reference accuracy ≈ 86.4%. The reference code scores it as
        // correct actions / all trials (utils/run.py, correct_action_taken_by_total_trials: a time-out
        // counts as wrong), on its own task (truncated-geometric blocks, sessions of 4 blocks ≈ 200 trials)
        // with its own actor (utils/models.py BayesianActor; BayesianAgent.ReferenceCode).
        // 50,000 trials: binomial SE 0.15 points; tolerance ±1 point.
        var trials = IblSimulation.RunSessions(IblTaskConfig.ReferenceCode, BayesianAgent.ReferenceCode, 250, 200, Rng.FromSeed(2020));
        var acc = Accuracy.Of(trials);
        Assert.InRange(acc.Value(TimeoutPolicy.CountAsWrong), 0.854, 0.874);

        // Paper Fig. 2a, the Bayesian actor's line (the reference repository's
        // documents/neurips_2020/figures/hook_plot_behav_trial_outcome_by_trial_strength.jpg), read by eye
        // and averaged over the two signs of each contrast: .66, .80, .87, .92, .943, .965. Tolerance 0.03:
        // ±0.01 for the reading plus the figure's and our sampling noise (≈ 3,300 trials per contrast here).
        double[] figure = [0.66, 0.80, 0.87, 0.92, 0.943, 0.965];
        var curve = IblBehaviour.ByContrast(trials);
        for (int i = 0; i < figure.Length; i++)
            Assert.True(Math.Abs(curve[i].All.Value(TimeoutPolicy.CountAsWrong) - figure[i]) <= 0.03,
                $"μ = {curve[i].Contrast}: {curve[i].All.Value(TimeoutPolicy.CountAsWrong):F3} vs the figure's {figure[i]}");
    }

    [Fact]
    public void The_papers_actor_as_specified_is_not_the_86_4_percent_one()
    {
        // The same trials with the actor §2.3 specifies (exact stimulus prior through p_s, contrast
        // shared within a trial): ≈ 79% with time-outs wrong, ≈ 96% with them left out — both far from
        // 86.4%, which is why the reference code's actor is kept as a named agent (docs/ibl.md).
        var trials = IblSimulation.RunSessions(IblTaskConfig.ReferenceCode, BayesianAgent.Markov, 250, 200, Rng.FromSeed(2020));
        var acc = Accuracy.Of(trials);
        Assert.True(acc.Value(TimeoutPolicy.CountAsWrong) < 0.83, $"{acc.Value(TimeoutPolicy.CountAsWrong):F4}");
        Assert.True(acc.Value(TimeoutPolicy.Exclude) > 0.93, $"{acc.Value(TimeoutPolicy.Exclude):F4}");
    }

    [Fact]
    public void Reference_block_lengths_have_mean_49_4()
    {
        // SPEC B1 (reference code): a geometric(0.02) length rejection-sampled into [20, 100] has mean ≈ 49.4.
        // Derived here from the hazard the task and the exact filter share: P(L = l) = h(l) Π_{k<l} (1 − h(k)).
        var c = IblTaskConfig.ReferenceCode;
        double survive = 1, mean = 0, total = 0;
        for (int l = 1; l <= c.MaxBlockLength; l++)
        {
            var p = survive * c.BlockEndHazard(l);
            mean += l * p;
            total += p;
            survive *= 1 - c.BlockEndHazard(l);
        }
        Assert.Equal(1.0, total, 12);
        Assert.InRange(mean, 49.35, 49.45);
    }

    [Fact]
    public void Paper_block_lengths_follow_the_semi_Markov_hazard()
    {
        // Paper §2.1: p_b = 0 below 20 trials, 0.02 from 20 to 100, 1 beyond. Hence
        // P(L = 20) = 0.02 and P(L = 100) = 0.98^80 ≈ 0.1986; mean = 20 + Σ_{k=1}^{80} 0.98^k ≈ 59.27.
        var c = IblTaskConfig.Paper;
        Assert.Equal(0.0, c.BlockEndHazard(19));
        Assert.Equal(0.02, c.BlockEndHazard(20));
        Assert.Equal(0.02, c.BlockEndHazard(99));
        Assert.Equal(1.0, c.BlockEndHazard(100));
        var expectedMean = 20 + Enumerable.Range(1, 80).Sum(k => Math.Pow(0.98, k));
        // The environment's completed blocks (200,000 trials) agree within 5 standard errors.
        var env = IblEnvironment.Start(c, Rng.FromSeed(3));
        var lengths = new List<int>();
        int current = 0, block = 0;
        for (int n = 0; n < 200_000;)
        {
            (var o, env) = IblEnvironment.Advance(env, env.Current.IsBlank ? null : Side.Left);
            if (o is null) continue;
            n++;
            if (o.Trial.Block != block) { lengths.Add(current); current = 0; block = o.Trial.Block; }
            current++;
        }
        var m = lengths.Average();
        var sd = Math.Sqrt(lengths.Select(x => (x - m) * (x - m)).Sum() / (lengths.Count - 1));
        Assert.InRange(m, expectedMean - 5 * sd / Math.Sqrt(lengths.Count), expectedMean + 5 * sd / Math.Sqrt(lengths.Count));
        Assert.All(lengths, l => Assert.InRange(l, 20, 100));
    }

    [Theory]
    [InlineData("markov")]
    [InlineData("semi-markov")]
    [InlineData("forced")]
    public void Accuracy_rises_with_contrast(string agent)
    {
        // Paper Fig. 2a: the fraction correct is lowest at zero contrast and highest at high contrast.
        var curve = IblBehaviour.ByContrast(Runs[agent]);
        Assert.Equal(6, curve.Count);
        foreach (var policy in new[] { TimeoutPolicy.CountAsWrong, TimeoutPolicy.Exclude })
        {
            var acc = curve.Select(p => p.All.Value(policy)).ToArray();
            for (int i = 1; i < acc.Length; i++)
                Assert.True(acc[i] > acc[i - 1] - 0.005, $"{agent}, {policy}: accuracy falls from μ={curve[i - 1].Contrast} ({acc[i - 1]:F3}) to μ={curve[i].Contrast} ({acc[i]:F3})");
            Assert.True(acc[^1] - acc[0] > 0.2, $"{agent}, {policy}: {acc[0]:F3} at zero contrast vs {acc[^1]:F3} at the highest");
        }
    }

    [Theory]
    [InlineData("markov")]
    [InlineData("semi-markov")]
    [InlineData("forced")]
    public void Zero_contrast_concordant_far_above_discordant_and_bounded_by_p_s(string agent)
    {
        // Paper Fig. 3a/c: at zero contrast the block prior decides: concordant ≫ discordant.
        // Analytic bound: at μ = 0 the observations carry no information about the side, so
        // P(correct) ≤ max_s P(s | history) ≤ p_s = 0.8 for every agent (allow 5 binomial SE).
        var zero = IblBehaviour.ByContrast(Runs[agent])[0];
        Assert.Equal(0.0, zero.Contrast);
        var conc = zero.Concordant.Value(TimeoutPolicy.CountAsWrong);
        var disc = zero.Discordant.Value(TimeoutPolicy.CountAsWrong);
        Assert.True(conc - disc > 0.1, $"{agent}: concordant {conc:F3} vs discordant {disc:F3}");
        var all = zero.All.Value(TimeoutPolicy.CountAsWrong);
        Assert.True(all <= 0.8 + 5 * Math.Sqrt(0.16 / zero.All.Trials), $"{agent}: zero-contrast accuracy {all:F3} above p_s = 0.8");
    }

    [Fact]
    public void Forced_choice_beats_the_threshold_actor()
    {
        // SPEC B3: the exact forced-choice actor, acting on the last step, is expected well above the
        // threshold actor (time-outs count as wrong: the task's own feedback).
        var forced = Accuracy.Of(Runs["forced"]).Value(TimeoutPolicy.CountAsWrong);
        foreach (var threshold in new[] { "markov", "semi-markov" })
        {
            var acc = Accuracy.Of(Runs[threshold]).Value(TimeoutPolicy.CountAsWrong);
            Assert.True(forced > acc + 0.05, $"forced {forced:F4} vs {threshold} {acc:F4}");
        }
        Assert.Equal(0.0, Accuracy.Of(Runs["forced"]).TimeoutRate);
    }

    [Fact]
    public void Accuracy_climbs_after_a_block_change()
    {
        // Paper Fig. 3b: the fraction correct rises over the trials after a change-point.
        var curve = IblBehaviour.AfterBlockChange(Runs["semi-markov"], 20);
        var early = curve.Take(3).Average(p => p.All.Value(TimeoutPolicy.CountAsWrong));
        var late = curve.Skip(15).Average(p => p.All.Value(TimeoutPolicy.CountAsWrong));
        Assert.True(late > early + 0.03, $"first 3 trials {early:F3} vs trials 15–19 {late:F3}");
    }

    [Theory]
    [InlineData(BlockModel.SemiMarkov, StimulusPrior.Concordance)]      // "forced"
    [InlineData(BlockModel.SemiMarkov, StimulusPrior.BlockPrediction)]  // "forced+block-prior"
    [InlineData(BlockModel.Markov, StimulusPrior.Concordance)]
    [InlineData(BlockModel.Markov, StimulusPrior.BlockPrediction)]
    public void Forced_choice_accuracy_by_contrast_is_the_exact_integral(BlockModel blockModel, StimulusPrior prior)
    {
        // Analytic (ForcedChoiceExact, written from SPEC B1/B3 without the code under test): given its
        // prior log-odds c on the stimulus side, the forced choice after 10 observation steps is right with
        // probability P(correct | μ, c) = ∫ φ(z) Q((f⁻¹(f(√10 z) − c) − 10μ)/√10) dz, the shared contrast
        // marginalised in f. The prior at each trial's start is the test's own block filter (Markov or
        // semi-Markov) on the sides revealed so far — the forced choice never times out, so every side is
        // revealed — turned into a stimulus prior through p_s (concordance) or taken as is (block prediction).
        // Given the drawn sides and contrasts the trials' outcomes are independent Bernoulli(q_i), so a
        // contrast's number correct has mean Σ q_i and variance Σ q_i(1 − q_i): tolerance 4 SE, the variance
        // floored at one trial (a near-certain contrast has a Poisson-like tail). 25,000 trials per agent.
        var agent = new BayesianAgent(blockModel, DecisionRule.ForcedChoice, StimulusPrior: prior);
        var trials = IblSimulation.RunSessions(IblTaskConfig.Paper, agent, 25, 1000, Rng.FromSeed(11));
        Assert.All(trials, t => Assert.Equal(ForcedChoiceExact.Steps, t.ObservationSteps));

        // The block prediction P(b_n = right | s_<n) at each trial's start, session by session.
        var blockLogOdds = new List<double>(trials.Length);
        for (int start = 0; start < trials.Length; start += 1000)
        {
            var sides = trials.Skip(start).Take(1000).Select(t => t.Trial.StimulusSide).ToList();
            blockLogOdds.AddRange(blockModel == BlockModel.Markov
                ? ForcedChoiceExact.MarkovBlockLogOdds(sides) : ForcedChoiceExact.SemiMarkovBlockLogOdds(sides));
        }
        for (int i = 0; i < trials.Length; i++)
            Assert.True(Math.Abs(trials[i].BlockPriorRight - 1 / (1 + Math.Exp(-blockLogOdds[i]))) < 1e-12,
                $"trial {i}: recorded block prior {trials[i].BlockPriorRight} vs the predicted {1 / (1 + Math.Exp(-blockLogOdds[i]))}");

        var ps = ForcedChoiceExact.Concordance;
        foreach (var mu in ForcedChoiceExact.Contrasts)
        {
            double correct = 0, expected = 0, variance = 0;
            int count = 0;
            for (int i = 0; i < trials.Length; i++)
            {
                var t = trials[i];
                if (t.Trial.Contrast != mu) continue;
                var b = 1 / (1 + Math.Exp(-blockLogOdds[i]));
                var priorRight = prior == StimulusPrior.BlockPrediction ? blockLogOdds[i]
                    : Math.Log(ps * b + (1 - ps) * (1 - b)) - Math.Log((1 - ps) * b + ps * (1 - b));
                var q = ForcedChoiceExact.PCorrect(mu, t.Trial.StimulusSide == Side.Right ? priorRight : -priorRight);
                count++;
                expected += q;
                variance += q * (1 - q);
                if (t.Correct) correct++;
            }
            var tolerance = 4 * Math.Sqrt(Math.Max(variance, 1));
            Assert.True(Math.Abs(correct - expected) <= tolerance,
                $"{blockModel}, {prior}, μ = {mu}: {correct / count:F4} correct vs the exact {expected / count:F4} (±{tolerance / count:F4}, {count} trials)");
        }
    }
}
