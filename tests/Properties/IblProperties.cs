using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HmmRnn.Core;
using HmmRnn.Core.Ibl;
using HmmRnn.Testing;

namespace HmmRnn.Properties;

public class IblEnvironmentProperties
{
    private static Arbitrary<(IblTaskConfig Config, Rng Seed)> Sessions => IblGen.Session.ToArbitrary();

    [Property(MaxTest = 60)]
    public Property Completed_blocks_have_lengths_within_min_and_max() => Prop.ForAll(Sessions, s =>
    {
        var outcomes = IblGen.Play(s.Config, s.Seed, 600);
        var lengths = outcomes.GroupBy(o => o.Trial.Block).Select(g => g.Count()).SkipLast(1).ToArray(); // the last block is cut off
        return lengths.All(l => l >= s.Config.MinBlockLength && l <= s.Config.MaxBlockLength)
            .Label($"lengths {string.Join(",", lengths)} outside [{s.Config.MinBlockLength}, {s.Config.MaxBlockLength}]");
    });

    [Property(MaxTest = 60)]
    public Property Blocks_alternate_sides_and_trials_count_up() => Prop.ForAll(Sessions, s =>
    {
        var o = IblGen.Play(s.Config, s.Seed, 300);
        for (int i = 1; i < o.Length; i++)
        {
            var (a, b) = (o[i - 1].Trial, o[i].Trial);
            if (b.Index != a.Index + 1) return false.Label($"trial index {a.Index} → {b.Index}");
            var newBlock = b.Block == a.Block + 1;
            if (!(newBlock || b.Block == a.Block)) return false.Label("block index jumped");
            if (newBlock && (b.BlockSide == a.BlockSide || b.TrialInBlock != 0)) return false.Label($"new block at trial {b.Index} kept its side or count");
            if (!newBlock && (b.BlockSide != a.BlockSide || b.TrialInBlock != a.TrialInBlock + 1)) return false.Label($"trial {b.Index} inconsistent within block");
        }
        return true.ToProperty();
    });

    [Property(MaxTest = 40)]
    public Property Steps_follow_the_trial_timing() => Prop.ForAll(Sessions, s =>
    {
        var c = s.Config;
        var env = IblEnvironment.Start(c, s.Seed);
        double? pendingFeedback = 0;
        for (int k = 0; k < 300; k++)
        {
            var step = env.Current;
            var expectedFeedback = step.StepInTrial == 0 ? pendingFeedback!.Value : step.IsBlank ? 0 : c.WaitPenalty;
            if (step.Input.Feedback != expectedFeedback) return false.Label($"feedback {step.Input.Feedback}, expected {expectedFeedback}");
            if (step.IsBlank != step.StepInTrial < c.BlankSteps) return false.Label("blank flag");
            if (step.IsBlank && (step.Input.Left != 0 || step.Input.Right != 0)) return false.Label("a blank step showed a stimulus");
            if (step.IsLastStep != (step.StepInTrial == c.MaxStepsPerTrial - 1)) return false.Label("last-step flag");
            Side? act = k % 7 == 3 ? Side.Left : null;
            (var o, env) = IblEnvironment.Advance(env, act);
            if (o is not null)
            {
                if (o.ObservationSteps < 1 || o.ObservationSteps > c.MaxObservationSteps) return false.Label($"{o.ObservationSteps} observation steps");
                pendingFeedback = o.Correct ? c.Reward : c.Punishment;
            }
            else if (act is not null && !step.IsBlank) return false.Label("an action did not end the trial");
        }
        return true.ToProperty();
    });

    [Property(MaxTest = 20)]
    public Property Same_seed_same_session() => Prop.ForAll(Sessions, s =>
        IblGen.Play(s.Config, s.Seed, 200).SequenceEqual(IblGen.Play(s.Config, s.Seed, 200)).ToProperty());

    [Fact]
    public void Concordance_and_contrast_frequencies_converge()
    {
        // 60,000 trials of the paper's task; tolerances are 5 binomial standard errors.
        var c = IblTaskConfig.Paper;
        var o = IblGen.Play(c, Rng.FromSeed(11), 60_000);
        var n = (double)o.Length;
        var concordant = o.Count(x => x.Trial.Concordant) / n;
        Assert.InRange(concordant, 0.8 - 5 * Math.Sqrt(0.16 / n), 0.8 + 5 * Math.Sqrt(0.16 / n));
        var p = 1.0 / c.Contrasts.Length;
        foreach (var mu in c.Contrasts)
            Assert.InRange(o.Count(x => x.Trial.Contrast == mu) / n, p - 5 * Math.Sqrt(p * (1 - p) / n), p + 5 * Math.Sqrt(p * (1 - p) / n));
    }

    [Fact]
    public void Observations_have_the_stated_means_and_spread()
    {
        // Stimulus side ~ N(μ, 1), other side ~ N(0, 1): residuals have mean 0, variance 1 (5 SE bands).
        var c = IblTaskConfig.Paper;
        var env = IblEnvironment.Start(c, Rng.FromSeed(5));
        var residuals = new List<double>();
        while (residuals.Count < 100_000)
        {
            var s = env.Current;
            if (!s.IsBlank)
            {
                var (on, off) = s.Trial.StimulusSide == Side.Right ? (s.Input.Right, s.Input.Left) : (s.Input.Left, s.Input.Right);
                residuals.Add(on - s.Trial.Contrast);
                residuals.Add(off);
            }
            (_, env) = IblEnvironment.Advance(env, null);
        }
        var mean = residuals.Average();
        var variance = residuals.Select(x => (x - mean) * (x - mean)).Average();
        Assert.InRange(mean, -5 / Math.Sqrt(residuals.Count), 5 / Math.Sqrt(residuals.Count));
        Assert.InRange(variance, 1 - 5 * Math.Sqrt(2.0 / residuals.Count), 1 + 5 * Math.Sqrt(2.0 / residuals.Count));
    }
}

public class BayesianProperties
{
    private static Arbitrary<(IblTaskConfig Config, Rng Seed)> Sessions => IblGen.Session.ToArbitrary();

    [Property(MaxTest = 1000)]
    public Property Posteriors_are_probabilities_on_every_step() => Prop.ForAll(Sessions, s =>
    {
        foreach (var agent in new[] { BayesianAgent.Markov, BayesianAgent.SemiMarkov, BayesianAgent.ReferenceCode })
            foreach (var r in IblSimulation.Run(s.Config, agent, 150, s.Seed))
            {
                if (!(r.BlockPriorRight >= 0 && r.BlockPriorRight <= 1)) return false.Label($"block prior {r.BlockPriorRight}");
                if (!(r.PosteriorRight >= 0 && r.PosteriorRight <= 1)) return false.Label($"posterior {r.PosteriorRight}");
                if (!(r.ObserverPosteriorRight >= 0 && r.ObserverPosteriorRight <= 1)) return false.Label($"observer {r.ObserverPosteriorRight}");
            }
        return true.ToProperty();
    });

    [Property(MaxTest = 40)]
    public Property Semi_Markov_joint_stays_normalised() => Prop.ForAll(Sessions, s =>
    {
        var b = BayesianObserver.Start(s.Config, BlockModel.SemiMarkov);
        var rng = s.Seed;
        for (int n = 0; n < 200; n++)
        {
            (var u, rng) = rng.NextDouble();
            b = BayesianObserver.EndTrial(b, u < 0.1 ? null : u < 0.55 ? Side.Left : Side.Right);
            var joint = ((SemiMarkovBlockBelief)b.Block).Joint;
            if (Math.Abs(joint.Sum() - 1) > 1e-9 || joint.Any(x => x < 0)) return false.Label($"sum {joint.Sum()} after {n} trials");
        }
        return true.ToProperty();
    });

    /// <summary>A task, a short trial's observations (L, R interleaved, 1–5 steps) and a block prior.</summary>
    private static Arbitrary<(IblTaskConfig Config, double[] Observations, double BlockPrior)> ShortTrials =>
        (from c in IblGen.Config
         from n in Gen.Choose(1, 5)
         from obs in Gen.Choose(-300, 500).Select(x => x / 100.0).ArrayOf(2 * n)
         from prior in Gen.Choose(1, 99).Select(x => x / 100.0)
         select (c, obs, prior)).ToArbitrary();

    /// <summary>Feeds observation step <paramref name="t"/> of <paramref name="obs"/> to the belief.</summary>
    private static Belief ObserveStep(Belief belief, double[] obs, int t) => BayesianObserver.Observe(belief,
        new IblStep(new IblTrialInfo(0, 0, 0, Side.Right, Side.Right, 0), belief.Config.BlankSteps + t, false, false, new IblInput(obs[2 * t], obs[2 * t + 1], 0)));

    /// <summary>The normal density N(v; m, sd), written out.</summary>
    private static double Normal(double v, double m, double sd) => Math.Exp(-0.5 * (v - m) * (v - m) / (sd * sd)) / (sd * Math.Sqrt(2 * Math.PI));

    [Property(MaxTest = 200)]
    public Property Within_trial_posterior_equals_numeric_Bayes() => Prop.ForAll(ShortTrials, x =>
    {
        // Brute force: P(o | s) = Σ_μ P(μ) Π_t N(o^L_t; μ_L, σ) N(o^R_t; μ_R, σ) with full Gaussian densities.
        var (c, obs, blockPrior) = x;
        var belief = new Belief(c, new MarkovBlockBelief(c.BlockHazard, blockPrior), default);
        for (int t = 0; t < obs.Length / 2; t++) belief = ObserveStep(belief, obs, t);
        double Likelihood(Side s) => c.Contrasts.Average(mu =>
        {
            var p = 1.0;
            for (int t = 0; t < obs.Length / 2; t++)
                p *= Normal(obs[2 * t], s == Side.Left ? mu : 0, c.ObservationNoise) * Normal(obs[2 * t + 1], s == Side.Right ? mu : 0, c.ObservationNoise);
            return p;
        });
        var priorRight = c.Concordance * blockPrior + (1 - c.Concordance) * (1 - blockPrior);
        var expected = Likelihood(Side.Right) * priorRight / (Likelihood(Side.Right) * priorRight + Likelihood(Side.Left) * (1 - priorRight));
        var actual = BayesianObserver.StimulusPosteriorRight(belief);
        return (Math.Abs(actual - expected) < 1e-9).Label($"posterior {actual} vs numeric {expected}");
    });

    [Property(MaxTest = 200)]
    public Property Reference_actor_posterior_equals_the_reference_recursion() => Prop.ForAll(ShortTrials, x =>
    {
        // The reference code's update, written out independently of BayesianObserver: a joint over
        // (signed contrast m, side s) with P(m | s) uniform on s's contrasts (m = 0 belongs to both),
        // weighed by the density of d = R − L, N(d; m, √2σ), marginalised over m and renormalised after
        // every step, starting from the block prediction itself as P(s = right).
        var (c, obs, blockPrior) = x;
        var belief = new Belief(c, new MarkovBlockBelief(c.BlockHazard, blockPrior), default,
            StimulusModel.PerStepContrast, StimulusPrior.BlockPrediction);
        // Like the reference, keep both entries of the posterior (1 − right would lose a near-certain
        // side's complement to cancellation).
        var sd = Math.Sqrt(2) * c.ObservationNoise;
        double right = blockPrior, left = 1 - blockPrior;
        for (int t = 0; t < obs.Length / 2; t++)
        {
            belief = ObserveStep(belief, obs, t);
            var d = obs[2 * t + 1] - obs[2 * t];
            var jointRight = c.Contrasts.Sum(mu => Normal(d, mu, sd) / c.Contrasts.Length) * right;
            var jointLeft = c.Contrasts.Sum(mu => Normal(d, -mu, sd) / c.Contrasts.Length) * left;
            (right, left) = (jointRight / (jointRight + jointLeft), jointLeft / (jointRight + jointLeft));
        }
        var actual = BayesianObserver.StimulusPosteriorRight(belief);
        return (Math.Abs(actual - right) < 1e-9).Label($"posterior {actual} vs recursion {right}");
    });

    [Property(MaxTest = 100)]
    public Property Stimulus_prior_is_the_block_prediction_or_passes_through_p_s()
    {
        // Exact: P(s = right) = p_s·b + (1 − p_s)(1 − b). The reference code's: P(s = right) = b.
        var gen = from c in IblGen.Config
                  from b in Gen.Choose(0, 100).Select(x => x / 100.0)
                  select (c, b);
        return Prop.ForAll(gen.ToArbitrary(), x =>
        {
            var (c, b) = x;
            var block = new MarkovBlockBelief(c.BlockHazard, b);
            var exact = BayesianObserver.StimulusPriorRight(new Belief(c, block, default));
            var copied = BayesianObserver.StimulusPriorRight(new Belief(c, block, default, StimulusPrior: StimulusPrior.BlockPrediction));
            return (Math.Abs(exact - (c.Concordance * b + (1 - c.Concordance) * (1 - b))) < 1e-12 && copied == b)
                .Label($"exact {exact}, block prediction {copied}, b = {b}, p_s = {c.Concordance}");
        });
    }

    [Property(MaxTest = 30)]
    public Property Only_a_time_out_guess_makes_the_agent_learn_a_side_it_was_not_shown() => Prop.ForAll(Sessions, s =>
    {
        // Play a session with the reference actor and replay its block belief by hand: after an
        // action it takes in the true side; after a time-out the side opposite to where it leaned.
        // The exact agents learn nothing from a time-out.
        var agent = BayesianAgent.ReferenceCode;
        var env = IblEnvironment.Start(s.Config, s.Seed);
        var belief = agent.Start(s.Config);
        for (int trials = 0; trials < 150;)
        {
            var step = env.Current;
            belief = BayesianObserver.Observe(belief, step);
            (var outcome, env) = IblEnvironment.Advance(env, BayesianActor.Decide(agent.Rule, belief, step));
            if (outcome is null) continue;
            trials++;
            var leaning = BayesianObserver.StimulusPosteriorRight(belief) >= 0.5 ? Side.Right : Side.Left;
            Side? expected = outcome.TimedOut ? (leaning == Side.Right ? Side.Left : Side.Right) : outcome.Trial.StimulusSide;
            if (agent.Learns(outcome, belief) != expected) return false.Label($"trial {outcome.Trial.Index}: learns {agent.Learns(outcome, belief)}, expected {expected}");
            if (BayesianAgent.Markov.Learns(outcome, belief) != outcome.RevealedSide) return false.Label("the exact agent learnt from a time-out");
            belief = BayesianObserver.EndTrial(belief, expected);
        }
        return true.ToProperty();
    });

    [Property(MaxTest = 100)]
    public Property Semi_Markov_filter_equals_enumeration_of_block_paths()
    {
        // Enumerate every (side, run-length) path over n ≤ 7 trials with its probability under the
        // hazard, weigh by P(revealed sides | blocks), and compare P(b_n = right | s_<n) with the filter.
        var gen = from c in IblGen.Config
                  from n in Gen.Choose(1, 7)
                  from revealed in Gen.Elements<Side?>(Side.Left, Side.Right, null).ArrayOf(n)
                  select (c, revealed);
        return Prop.ForAll(gen.ToArbitrary(), x =>
        {
            var (c, revealed) = x;
            var belief = BayesianObserver.Start(c, BlockModel.SemiMarkov);
            foreach (var r in revealed) belief = BayesianObserver.EndTrial(belief, r);
            // Paths over trials 1 … n+1: state (side, run length).
            var paths = new List<(int Side, int Run, double P)> { (-1, 1, 0.5), (1, 1, 0.5) };
            foreach (var r in revealed)
            {
                var next = new List<(int, int, double)>();
                foreach (var (side, run, p) in paths)
                {
                    var like = r is Side s ? ((int)s == side ? c.Concordance : 1 - c.Concordance) : 1.0;
                    var h = c.BlockEndHazard(run);
                    if (h < 1) next.Add((side, run + 1, p * like * (1 - h)));
                    if (h > 0) next.Add((-side, 1, p * like * h));
                }
                paths = next;
            }
            var total = paths.Sum(p => p.P);
            var expected = paths.Where(p => p.Side == 1).Sum(p => p.P) / total;
            return (Math.Abs(belief.Block.PriorRight - expected) < 1e-9).Label($"filter {belief.Block.PriorRight} vs enumeration {expected}");
        });
    }

    [Fact]
    public void Exact_filter_has_lower_block_log_loss_than_the_Markov_filter_on_long_sessions()
    {
        // Expected log-loss is minimised by the true posterior; on each long session (4,000 trials) the
        // exact filter's summed loss must not exceed the Markov approximation's.
        for (int session = 0; session < 5; session++)
        {
            var c = IblTaskConfig.Paper;
            var env = IblEnvironment.Start(c, Rng.FromSeed(100 + session));
            var exact = BayesianObserver.Start(c, BlockModel.SemiMarkov);
            var markov = BayesianObserver.Start(c, BlockModel.Markov);
            double lossExact = 0, lossMarkov = 0;
            for (int n = 0; n < 4000;)
            {
                (var o, env) = IblEnvironment.Advance(env, env.Current.IsBlank ? null : Side.Right);
                if (o is null) continue;
                n++;
                var right = o.Trial.BlockSide == Side.Right;
                lossExact -= Math.Log(right ? exact.Block.PriorRight : 1 - exact.Block.PriorRight);
                lossMarkov -= Math.Log(right ? markov.Block.PriorRight : 1 - markov.Block.PriorRight);
                exact = BayesianObserver.EndTrial(exact, o.RevealedSide);
                markov = BayesianObserver.EndTrial(markov, o.RevealedSide);
            }
            Assert.True(lossExact <= lossMarkov, $"session {session}: exact {lossExact:F1} nats > Markov {lossMarkov:F1}");
        }
    }

    [Fact]
    public void Agents_are_deterministic_from_the_seed()
    {
        var a = IblSimulation.RunSessions(IblTaskConfig.Paper, BayesianAgent.SemiMarkov, 3, 300, Rng.FromSeed(9));
        var b = IblSimulation.RunSessions(IblTaskConfig.Paper, BayesianAgent.SemiMarkov, 3, 300, Rng.FromSeed(9));
        Assert.Equal(a.ToArray(), b.ToArray());
        var d = IblSimulation.RunSessions(IblTaskConfig.Paper, BayesianAgent.SemiMarkov, 3, 300, Rng.FromSeed(10));
        Assert.NotEqual(a.ToArray(), d.ToArray());
    }
}

public class IblValidationTests
{
    [Theory]
    [InlineData("Concordance", "IblTaskConfig.Concordance = 1.2: must be a probability in [0, 1]")]
    [InlineData("MinMax", "IblTaskConfig.MaxBlockLength = 10: must be ≥ MinBlockLength (20)")]
    [InlineData("Contrasts", "IblTaskConfig.Contrasts = []: needs at least one contrast")]
    [InlineData("Threshold", "IblTaskConfig.ActionThreshold = 0.5: must be in (0.5, 1)")]
    [InlineData("Noise", "IblTaskConfig.ObservationNoise = 0: must be finite and > 0")]
    public void Bad_configs_name_the_field_and_value(string which, string message)
    {
        var c = which switch
        {
            "Concordance" => IblTaskConfig.Paper with { Concordance = 1.2 },
            "MinMax" => IblTaskConfig.Paper with { MaxBlockLength = 10 },
            "Contrasts" => IblTaskConfig.Paper with { Contrasts = [] },
            "Threshold" => IblTaskConfig.Paper with { ActionThreshold = 0.5 },
            _ => IblTaskConfig.Paper with { ObservationNoise = 0 },
        };
        var e = Assert.Throws<ArgumentException>(() => IblEnvironment.Start(c, Rng.FromSeed(1)));
        Assert.StartsWith(message, e.Message);
        Assert.Throws<ArgumentException>(() => BayesianObserver.Start(c, BlockModel.SemiMarkov));
    }

    [Fact]
    public void Unknown_agent_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => BayesianAgent.Named("oracle"));
        Assert.Contains("markov, semi-markov, forced, reference", e.Message);
    }

    [Fact]
    public void Unknown_modifier_is_named_with_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => BayesianAgent.Named("markov+psychic"));
        Assert.Contains("modifier = psychic: not a modifier", e.Message);
        Assert.Contains("per-step-contrast, block-prior, timeout-guess", e.Message);
    }

    [Fact]
    public void Modifiers_switch_on_one_departure_each()
    {
        Assert.Equal(BayesianAgent.Markov with { StimulusPrior = StimulusPrior.BlockPrediction }, BayesianAgent.Named("markov+block-prior"));
        Assert.Equal(BayesianAgent.SemiMarkov with { StimulusModel = StimulusModel.PerStepContrast }, BayesianAgent.Named("semi-markov + per-step-contrast"));
        Assert.Equal(BayesianAgent.ForcedChoice with { TimeoutFeedback = TimeoutFeedback.OppositeOfLeaning }, BayesianAgent.Named("forced+timeout-guess"));
        // The reference code's actor is the paper's Markov actor with all three.
        Assert.Equal(BayesianAgent.ReferenceCode, BayesianAgent.Named("markov+per-step-contrast+block-prior+timeout-guess"));
        Assert.NotEqual(BayesianAgent.Markov, BayesianAgent.ReferenceCode);
    }
}
