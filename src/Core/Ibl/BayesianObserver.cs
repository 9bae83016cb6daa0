using System.Collections.Immutable;

namespace HmmRnn.Core.Ibl;

/// <summary>Which prior over block changes a Bayesian agent assumes.</summary>
public enum BlockModel
{
    /// <summary>The paper's baseline: a 2-state Markov chain with constant hazard p_b0.</summary>
    Markov,
    /// <summary>Exact: the task's own duration-aware hazard (min and max block length), tracking the run length.</summary>
    SemiMarkov,
}

/// <summary>How a Bayesian agent models the contrast within a trial.</summary>
public enum StimulusModel
{
    /// <summary>Exact (paper §2.3): one contrast per trial, shared by all its steps, marginalised once.</summary>
    SharedContrast,
    /// <summary>
    /// The reference code's actor: each step's d = R − L is weighed as N(d; ±μ, √2σ) with the contrast
    /// marginalised afresh at every step, as if each step drew its own contrast.
    /// </summary>
    PerStepContrast,
}

/// <summary>How a Bayesian agent turns its block belief into a prior over the current trial's stimulus side.</summary>
public enum StimulusPrior
{
    /// <summary>Exact (paper §2.3): P(s_n = right) = p_s·P(b_n = right) + (1 − p_s)·P(b_n = left).</summary>
    Concordance,
    /// <summary>
    /// The reference code's actor: the predicted block posterior itself, P(s_n = right) := P(b_n = right),
    /// skipping p_s. Overconfident: a well-known block gives a prior near 1 − p_b0 = 0.98 instead of ≤ p_s = 0.8
    /// under the Markov filter, and closer still to 1 under the semi-Markov one (whose hazard is 0 in a block's
    /// first trials), which costs accuracy at high contrast (forced+block-prior: 0.985 at μ = 1.5, the exact value).
    /// </summary>
    BlockPrediction,
}

/// <summary>
/// Within-trial evidence as sufficient statistics: the number of observation steps and the sums
/// of the left and right observations. Given the contrast μ and side s, the log-likelihood of a
/// trial's observations is, up to terms equal for both sides, (μ·S_s − n·μ²/2)/σ².
/// </summary>
/// <param name="Steps">Observation steps so far.</param>
/// <param name="SumLeft">Σ o^L.</param>
/// <param name="SumRight">Σ o^R.</param>
/// <param name="PerStepLogRatio">Σ_t log P(d_t | right) / P(d_t | left) with the contrast marginalised per step (<see cref="StimulusModel.PerStepContrast"/>).</param>
public readonly record struct StimulusEvidence(int Steps, double SumLeft, double SumRight, double PerStepLogRatio);

/// <summary>Belief about the block side before the current trial's stimulus is revealed.</summary>
public abstract record BlockBelief
{
    private protected BlockBelief() { }

    /// <summary>P(b_n = right | true sides revealed before trial n).</summary>
    public abstract double PriorRight { get; }
}

/// <summary>The paper's Markov block filter: P(b_n = right | s_&lt;n) and the hazard it assumes.</summary>
/// <param name="Hazard">The constant probability that a block ends after any trial, p_b0.</param>
/// <param name="PriorRight">P(b_n = right | s_&lt;n).</param>
public sealed record MarkovBlockBelief(double Hazard, double PriorRight) : BlockBelief
{
    /// <inheritdoc />
    public override double PriorRight { get; } = PriorRight;
}

/// <summary>
/// The exact semi-Markov block filter: the joint P(b_n = side, l_n = l | s_&lt;n) over the block
/// side and the run length l = 1 … max (trials of the current block up to and including n).
/// <see cref="Joint"/>[0 … max−1] is the left side, [max … 2max−1] the right.
/// </summary>
/// <param name="Config">The task whose block-length hazard the filter tracks.</param>
/// <param name="Joint">P(b_n, l_n | s_&lt;n): 2·max entries, left side first.</param>
public sealed record SemiMarkovBlockBelief(IblTaskConfig Config, ImmutableArray<double> Joint) : BlockBelief
{
    /// <inheritdoc />
    public override double PriorRight
    {
        get
        {
            // right / (left + right), not the right mass alone: a sum of a hundred rounded terms can
            // land a few ulps above 1.
            double left = 0, right = 0;
            foreach (var p in Joint.AsSpan(0, Config.MaxBlockLength)) left += p;
            foreach (var p in Joint.AsSpan(Config.MaxBlockLength, Config.MaxBlockLength)) right += p;
            return right / (left + right);
        }
    }

    /// <inheritdoc />
    public bool Equals(SemiMarkovBlockBelief? other) =>
        other is not null && Config.Equals(other.Config) && Joint.AsSpan().SequenceEqual(other.Joint.AsSpan());

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Config, Joint.Length, PriorRight);
}

/// <summary>A Bayesian agent's whole belief: the block belief carried across trials and the current trial's evidence.</summary>
/// <param name="Config">The task the agent assumes.</param>
/// <param name="Block">The block belief, carried across trials.</param>
/// <param name="Evidence">The current trial's evidence.</param>
/// <param name="StimulusModel">How the evidence is weighed.</param>
/// <param name="StimulusPrior">How the block belief becomes the stimulus prior.</param>
public sealed record Belief(IblTaskConfig Config, BlockBelief Block, StimulusEvidence Evidence,
    StimulusModel StimulusModel = StimulusModel.SharedContrast, StimulusPrior StimulusPrior = StimulusPrior.Concordance);

/// <summary>
/// Exact Bayesian inference in the IBL task (paper §2.3; SPEC B3) as pure step functions over
/// an immutable <see cref="Belief"/>, usable one step at a time on a live stream.
/// </summary>
public static class BayesianObserver
{
    /// <summary>The belief at the start of a session: no evidence; a block that has just begun, side unknown.</summary>
    /// <param name="config">The task the agent assumes.</param>
    /// <param name="model">The block prior.</param>
    /// <param name="stimulusModel">How within-trial evidence is weighed (exact by default).</param>
    /// <param name="stimulusPrior">How the block belief becomes the stimulus prior (exact by default).</param>
    public static Belief Start(IblTaskConfig config, BlockModel model, StimulusModel stimulusModel = StimulusModel.SharedContrast,
        StimulusPrior stimulusPrior = StimulusPrior.Concordance)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        BlockBelief block = model switch
        {
            BlockModel.Markov => new MarkovBlockBelief(config.BlockHazard, 0.5),
            BlockModel.SemiMarkov => new SemiMarkovBlockBelief(config, FirstTrial(config)),
            _ => throw new ArgumentOutOfRangeException(nameof(model), model, "unknown block model"),
        };
        if (!Enum.IsDefined(stimulusModel)) throw new ArgumentOutOfRangeException(nameof(stimulusModel), stimulusModel, "unknown stimulus model");
        if (!Enum.IsDefined(stimulusPrior)) throw new ArgumentOutOfRangeException(nameof(stimulusPrior), stimulusPrior, "unknown stimulus prior");
        return new Belief(config, block, default, stimulusModel, stimulusPrior);
    }

    /// <summary>Takes in one step's input: observation steps add evidence; blank steps add none.</summary>
    public static Belief Observe(Belief belief, IblStep step)
    {
        ArgumentNullException.ThrowIfNull(belief);
        ArgumentNullException.ThrowIfNull(step);
        if (step.IsBlank) return belief;
        var e = belief.Evidence;
        var perStep = belief.StimulusModel == StimulusModel.PerStepContrast
            ? e.PerStepLogRatio + PerStepLogRatio(belief.Config, step.Input.Right - step.Input.Left)
            : 0;
        return belief with { Evidence = new StimulusEvidence(e.Steps + 1, e.SumLeft + step.Input.Left, e.SumRight + step.Input.Right, perStep) };
    }

    /// <summary>
    /// One event folded into a belief: <see cref="Observe"/> for a step, <see cref="EndTrial"/> for a trial's end. The step
    /// function of the observer over a stream (Rx's Scan in Host, F#'s List.scan or Seq.scan).
    /// </summary>
    /// <exception cref="ArgumentNullException">no belief or no event.</exception>
    public static Belief Apply(Belief belief, IblEvent e) => e switch
    {
        IblEvent.Step s => Observe(belief, s.Value),
        IblEvent.TrialEnd t => EndTrial(belief, t.Revealed),
        null => throw new ArgumentNullException(nameof(e)),
        _ => throw new ArgumentException($"unknown IBL event {e.GetType().Name}", nameof(e)),
    };

    /// <summary>
    /// Closes a trial: the block belief takes in the true side if it was revealed (after an action),
    /// then predicts the next trial; the evidence is cleared.
    /// </summary>
    public static Belief EndTrial(Belief belief, Side? revealed)
    {
        ArgumentNullException.ThrowIfNull(belief);
        return belief with { Block = UpdateBlock(belief.Config, belief.Block, revealed), Evidence = default };
    }

    /// <summary>log P(evidence | s = right) − log P(evidence | s = left), marginalising the shared contrast.</summary>
    public static double StimulusLogLikelihoodRatio(IblTaskConfig config, StimulusEvidence evidence)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (evidence.Steps == 0) return 0;
        var contrasts = config.Contrasts.AsSpan();
        var inv = 1 / (config.ObservationNoise * config.ObservationNoise);
        Span<double> aR = stackalloc double[contrasts.Length], aL = stackalloc double[contrasts.Length];
        for (int k = 0; k < contrasts.Length; k++)
        {
            var mu = contrasts[k];
            var common = -0.5 * evidence.Steps * mu * mu;
            aR[k] = (mu * evidence.SumRight + common) * inv;
            aL[k] = (mu * evidence.SumLeft + common) * inv;
        }
        return LogSumExp(aR) - LogSumExp(aL);
    }

    /// <summary>P(s_n = right | block belief): the block prior turned into a stimulus prior (through p_s, unless the belief copies the reference code).</summary>
    public static double StimulusPriorRight(Belief belief)
    {
        ArgumentNullException.ThrowIfNull(belief);
        var b = belief.Block.PriorRight;
        if (belief.StimulusPrior == StimulusPrior.BlockPrediction) return b;
        var ps = belief.Config.Concordance;
        return ps * b + (1 - ps) * (1 - b);
    }

    /// <summary>P(s_n = right | everything seen so far): stimulus likelihood times the block-derived prior.</summary>
    public static double StimulusPosteriorRight(Belief belief)
    {
        ArgumentNullException.ThrowIfNull(belief);
        var prior = StimulusPriorRight(belief);
        if (prior <= 0) return 0;
        if (prior >= 1) return 1;
        var evidence = belief.StimulusModel == StimulusModel.PerStepContrast
            ? belief.Evidence.PerStepLogRatio
            : StimulusLogLikelihoodRatio(belief.Config, belief.Evidence);
        var logit = Math.Log(prior) - Math.Log(1 - prior) + evidence;
        return 1 / (1 + Math.Exp(-logit));
    }

    /// <summary>log Σ_μ N(d; μ, √2σ) − log Σ_μ N(d; −μ, √2σ): one step's evidence with the contrast marginalised for that step alone.</summary>
    public static double PerStepLogRatio(IblTaskConfig config, double difference)
    {
        ArgumentNullException.ThrowIfNull(config);
        var contrasts = config.Contrasts.AsSpan();
        var inv = 1 / (2 * config.ObservationNoise * config.ObservationNoise); // Var(d) = 2σ²
        Span<double> aR = stackalloc double[contrasts.Length], aL = stackalloc double[contrasts.Length];
        for (int k = 0; k < contrasts.Length; k++)
        {
            var mu = contrasts[k];
            aR[k] = -0.5 * (difference - mu) * (difference - mu) * inv;
            aL[k] = -0.5 * (difference + mu) * (difference + mu) * inv;
        }
        return LogSumExp(aR) - LogSumExp(aL);
    }

    /// <summary>log Σ_k exp(a_k), with the maximum pulled out (the contrast prior is uniform, so its weight cancels in a ratio).</summary>
    private static double LogSumExp(ReadOnlySpan<double> a)
    {
        var max = double.NegativeInfinity;
        foreach (var x in a) max = Math.Max(max, x);
        double s = 0;
        foreach (var x in a) s += Math.Exp(x - max);
        return max + Math.Log(s);
    }

    private static ImmutableArray<double> FirstTrial(IblTaskConfig c)
    {
        var joint = new double[2 * c.MaxBlockLength];
        joint[0] = 0.5;                    // left, run length 1
        joint[c.MaxBlockLength] = 0.5;     // right, run length 1
        return ImmutableArray.Create(joint);
    }

    private static BlockBelief UpdateBlock(IblTaskConfig c, BlockBelief block, Side? revealed) => block switch
    {
        MarkovBlockBelief m => UpdateMarkov(c, m, revealed),
        SemiMarkovBlockBelief s => UpdateSemiMarkov(c, s, revealed),
        _ => throw new ArgumentException($"unknown block belief {block.GetType().Name}", nameof(block)),
    };

    private static MarkovBlockBelief UpdateMarkov(IblTaskConfig c, MarkovBlockBelief m, Side? revealed)
    {
        var post = m.PriorRight;
        if (revealed is Side s)
        {
            // P(s | b): p_s on the block's side.
            double likeR = s == Side.Right ? c.Concordance : 1 - c.Concordance;
            double likeL = 1 - likeR;
            post = likeR * post / (likeR * post + likeL * (1 - post));
        }
        return new MarkovBlockBelief(m.Hazard, post * (1 - m.Hazard) + (1 - post) * m.Hazard);
    }

    private static SemiMarkovBlockBelief UpdateSemiMarkov(IblTaskConfig c, SemiMarkovBlockBelief b, Side? revealed)
    {
        int max = c.MaxBlockLength;
        var post = b.Joint.ToArray();
        if (revealed is Side s)
        {
            double likeR = s == Side.Right ? c.Concordance : 1 - c.Concordance;
            double likeL = 1 - likeR, total = 0;
            for (int l = 0; l < max; l++)
            {
                total += post[l] *= likeL;
                total += post[max + l] *= likeR;
            }
            if (total > 0)
                for (int i = 0; i < post.Length; i++) post[i] /= total;
        }
        // Predict: run length l either grows (1 − h(l)) or the block ends and the other side starts at 1.
        var next = new double[2 * max];
        for (int side = 0; side < 2; side++)
        {
            int other = 1 - side;
            for (int l = 1; l <= max; l++)
            {
                var p = post[side * max + l - 1];
                if (p == 0) continue;
                var h = c.BlockEndHazard(l);
                if (l < max) next[side * max + l] += p * (1 - h);
                next[other * max] += p * h;
            }
        }
        return b with { Joint = ImmutableArray.Create(next) };
    }
}
