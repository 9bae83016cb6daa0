using System.Text.Json;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Host.Output;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Tasks.Hmm;

/// <summary>
/// Everything that defines a training run of an HMM-emulating RNN (Torre et al. 2025; SPEC A2–A3).
/// Start from <see cref="Preset"/> and override fields; <see cref="Validate"/> names a bad field.
/// </summary>
public sealed record HmmTrainingConfig : ITaskConfig
{
    /// <inheritdoc />
    [System.Text.Json.Serialization.JsonIgnore]
    public string Task => "hmm";

    /// <summary>Catalogue model to emulate (linear2 … cyclic4), or the name of <see cref="Custom"/>.</summary>
    public string Hmm { get; init; } = "linear2";
    /// <summary>An HMM given by its matrices instead of a catalogue model (null: the catalogue's <see cref="Hmm"/>).</summary>
    public CustomHmm? Custom { get; init; }
    /// <summary>The preset the other values came from (for the record).</summary>
    public string PresetName { get; init; } = "quick";
    /// <summary>|h|.</summary>
    public int Hidden { get; init; } = 150;
    /// <summary>d, the dimension of the Gaussian noise input.</summary>
    public int Input { get; init; } = 100;
    /// <summary>Sequences per batch (paper 4096).</summary>
    public int Batch { get; init; } = 4096;
    /// <summary>Adam learning rate (paper 1e-3).</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>
    /// Epochs over which the learning rate halves (lr · 2^(−epoch / this)); null: constant (paper). A function of the
    /// epoch alone, so a resumed or extended run follows the same schedule.
    /// </summary>
    public double? LearningRateHalfLife { get; init; }
    /// <summary>
    /// The epoch (from 0) at which the halving starts: lr is constant before it, lr · 2^(−(epoch − this) / half-life) after
    /// (null: 0). A network first has to leave the plateau of i.i.d. symbols (cyclic4, seed 10: 25 epochs), which a
    /// learning rate decaying from the start can stop; once near a solution, a smaller step stops the epoch-to-epoch swings.
    /// Not in the quick preset: 30 epochs constant, then halving every 15, calmed linear2 and cyclic4 on seed 10 but on seeds
    /// 0–2 left linear2 where it had collapsed before epoch 30 and cost cyclic4 its dwell times (docs/hmm-training.md).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? LearningRateDecayFrom { get; init; }
    /// <summary>
    /// What picks the best checkpoint: <c>loss</c> (the validation Sinkhorn divergence, paper) or <c>transition</c> (the
    /// squared error of the generated output-transition matrix against the validation split's, the paper's own success
    /// measure, taken on the validation split each epoch; never the test split) or <c>faithful</c> (every verdict of issue 24
    /// against the validation split, on its fixed draw and on a fresh draw each epoch: the worse of the two).
    /// </summary>
    public string Selection { get; init; } = "loss";
    /// <summary>Adam β₁ (reference 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Adam β₂ (reference 0.9).</summary>
    public double Beta2 { get; init; } = 0.9;
    /// <summary>Gradient-norm clip; null: the paper's 0.9 for linear chains, 0.3 otherwise.</summary>
    public double? GradClip { get; init; }
    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; init; } = 1000;
    /// <summary>Training sequences (paper 10,000).</summary>
    public int TrainSequences { get; init; } = 10_000;
    /// <summary>Validation sequences (paper 10,000); the validation loss uses min(this, Batch) of them.</summary>
    public int ValidationSequences { get; init; } = 10_000;
    /// <summary>Held-out test sequences (paper 10,000).</summary>
    public int TestSequences { get; init; } = 10_000;
    /// <summary>Seed of everything: data, initial weights, noise.</summary>
    public long Seed { get; init; }
    /// <summary>cpu or cuda.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>
    /// Added to the diagonal of W_hh at initialisation (paper 0; the quick preset before issue 24 used 0.97 for linear chains, 0.9 otherwise).
    /// It leaves the i.i.d.-symbols plateau within a few epochs (SPEC A3 saw it with 0.9 on linear3).
    /// </summary>
    public double RecurrentIdentity { get; init; }
    /// <summary>Gumbel-softmax temperature τ (paper 1).</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>Sinkhorn blur (paper 0.2).</summary>
    public double Blur { get; init; } = 0.2;
    /// <summary>
    /// Weight of a χ² penalty that adds to the Sinkhorn divergence: Σ_ij (J_ij − K_ij)² / K_ij between the batch's generated
    /// pair frequencies J_ij = P(o_t = i, o_{t+1} = j) and the training split's K (paper: 0, the Sinkhorn loss alone).
    /// K is floored at 1e-6, so a pair the training split never shows costs J_ij² · 10⁶: emitting it is all but forbidden.
    /// Added after the first runs: left out of config.json and of <see cref="Hash"/> when 0, so that a run begun before it
    /// existed (the same training) still resumes.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public double PairWeight { get; init; }
    /// <summary>
    /// The pair term covers lags 1 … this: one χ² per lag k between the batch's generated P(o_t = i, o_t+k = j) and the
    /// training split's, each weighted by <see cref="PairWeight"/> (null: lag 1 alone). Lags beyond one step make the run
    /// structure (dwell times, P(o_t+k = o_t)) part of the objective, not only the one-step matrix.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? PairLags { get; init; }
    /// <summary>
    /// The one-step pair term is also taken at each of the first this many positions separately, against the training split's
    /// pairs (o_t, o_t+1) at that position (null: pooled over positions only). A network run from h = 0 needs a few steps to
    /// settle, and its first outputs flicker (fully3: P(o_1 ≠ o_0) 0.34 against the HMM's 0.09) where a pooled statistic barely
    /// sees it; the HMM starts in its stationary regime.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? StartPairs { get; init; }
    /// <summary>
    /// The pair terms are joined by terms over the frequencies of n-grams (o_t, …, o_t+n−1) for n = 3 … this, pooled over the
    /// rollout, against the training split's: the triangular discrimination Σ (J − K)² / (J + K), weighted by
    /// <see cref="PairWeight"/> (null: none). Pairs at every lag cannot tell a one-step flicker (0 1 0) from a
    /// two-step one (0 1 1 0); the HMM's emission noise makes only the first, a network whose state strays makes both.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? NGrams { get; init; }
    /// <summary>
    /// Also a term over run lengths up to this many steps (null: none): for each symbol a and length L, the frequency of a run
    /// of a that starts (the step before is not a) and lasts at least L steps, against the training split's, as
    /// PairWeight · Σ (J − K)² / (J + K). Pairs at any lag cannot tell a run that lasted from one that left and came back, and
    /// n-grams see runs of at most n − 1 steps; cyclic4's and linear2's networks matched every lag within 0.02–0.05 yet made
    /// too many short and too many long runs of one symbol (seed 10, tuned on). Not in the quick preset: with L = 20 it moved
    /// neither network closer (cyclic4 seed 10: dwell 11% short against 13%, lag error 0.033 against 0.015; linear2's training
    /// no calmer) at 25% more time a step.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? RunLengths { get; init; }
    /// <summary>
    /// Weight of a term on the one-step transition matrix itself (null: none): Σ_ij (P̂(j | i) − K(j | i))², the rows of the
    /// rollout's lag-1 pair frequencies and of the training split's normalised to conditional probabilities — the paper's
    /// success measure, squared error of the output-transition matrix. The χ² pair term weighs a cell by its joint frequency, so
    /// a row behind a rare symbol barely counts there (linear2's middle symbol, 1% of steps: a conditional error of 0.1 in its
    /// row adds ≈ 10⁻⁴ to the χ²) while the paper's measure counts every row alike.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? TransitionWeight { get; init; }
    /// <summary>
    /// The learning rate rises linearly from lr / this to lr over the first this many optimiser steps (null: from the first).
    /// Adam moves every weight by about lr a step whatever the gradient's scale: at lr 3e-3, 16 steps in one direction add a
    /// matrix of spectral norm ≈ 2.5 to a 50-unit W_hh, and linear2's 200-step rollout then overflows float32 (seed 10).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? WarmupSteps { get; init; }
    /// <summary>
    /// Weight of an activity penalty mean(h²) over the batch, the steps of the training rollout and the units (paper 0): the
    /// usual regulariser of task-trained RNNs, here against emulators that make long runs by letting activity grow.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public double ActivityWeight { get; init; }
    /// <summary>
    /// Steps the network runs in each training step (null: the model's sequence length T). With more than T, the Sinkhorn
    /// divergence still compares the first T steps with the data, while the pair terms and the activity penalty see the whole
    /// rollout: the HMM's sequences are stationary, so its pair statistics hold at every offset, and a network must stay
    /// bounded past T.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? Rollout { get; init; }
    /// <summary>Sinkhorn ε-scaling (paper 0.5).</summary>
    public double Scaling { get; init; } = 0.5;
    /// <summary>Emit a batch event (and read the loss back from the device) every this many steps.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>The values of <see cref="Selection"/>.</summary>
    public static IReadOnlyList<string> Selections { get; } = ["loss", "transition", "faithful"];

    /// <summary>The lags the pair term covers (1 … this).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int EffectivePairLags => PairLags ?? 1;

    /// <summary>Steps of the training rollout.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int EffectiveRollout => Rollout ?? Entry.SequenceLength;

    /// <summary>The learning rate of epoch <paramref name="epoch"/> (from 0) under the schedule.</summary>
    public double LearningRateAt(int epoch) =>
        LearningRateHalfLife is double h ? LearningRate * Math.Pow(2, -Math.Max(0, epoch - (LearningRateDecayFrom ?? 0)) / h) : LearningRate;

    /// <summary>
    /// The learning rate of optimiser step <paramref name="step"/> (from 0, counted over the whole run) in epoch
    /// <paramref name="epoch"/>: the schedule's, times min(1, (step + 1) / <see cref="WarmupSteps"/>) when warming up.
    /// </summary>
    public double LearningRateAt(int epoch, long step) =>
        LearningRateAt(epoch) * (WarmupSteps is int w && step + 1 < w ? (step + 1) / (double)w : 1);

    /// <summary>The presets: quick (minutes on a laptop CPU) and paper (SPEC A3, for a GPU).</summary>
    public static IReadOnlyList<string> Presets { get; } = ["quick", "paper"];

    /// <summary>A preset for a catalogue model, or for <paramref name="custom"/> matrices named <paramref name="hmm"/>.</summary>
    public static HmmTrainingConfig Preset(string preset, string hmm, CustomHmm? custom = null)
    {
        var paper = new HmmTrainingConfig { Hmm = hmm, Custom = custom, PresetName = "paper" };
        if (preset == "paper") return paper;
        if (preset != "quick")
            throw new ArgumentException($"Preset: unknown preset '{preset}'; known: {string.Join(", ", Presets)}", nameof(preset));
        var length = custom?.SequenceLength ?? (HmmCatalogue.Names.Contains(hmm, StringComparer.OrdinalIgnoreCase) ? HmmCatalogue.Named(hmm).SequenceLength : 30);
        return paper with
        {
            PresetName = "quick", Hidden = 50, Input = QuickInput, Batch = 512, LearningRate = 3e-3,
            Selection = "faithful", Epochs = length > 50 ? 60 : 80, TrainSequences = 10_000, ValidationSequences = 10_000, TestSequences = 10_000,
            RecurrentIdentity = 0, PairWeight = QuickPairWeight, PairLags = Math.Max(1, Math.Min(QuickPairLags, length - 1)),
            ActivityWeight = QuickActivityWeight, Rollout = 2 * length, StartPairs = Math.Max(1, Math.Min(QuickStartPairs, length - 1)),
            NGrams = length >= 3 ? Math.Min(QuickNGrams, length) : null, WarmupSteps = QuickWarmupSteps, TransitionWeight = QuickTransitionWeight,
        };
    }

    /// <summary>
    /// The quick preset (issue 24: faithful emulators; tuned on seed 10 of fully3, linear2, linear3 and cyclic4, judged on seeds
    /// 0–2, docs/hmm-training.md): the paper's initialisation (no identity term: with W_hh + 0.97·I linear2's 200-step rollouts
    /// overflowed float32; the identity-init networks of the earlier preset made long runs by exploding activity), the paper's
    /// noise dimension (d = 100, <see cref="QuickInput"/>); beside the
    /// Sinkhorn loss, χ² pair terms at lags 1 … 20 and at each of the first 10 positions, and 3- and 4-gram terms (weight 10
    /// each), and the one-step transition matrix's squared error (weight 100, <see cref="QuickTransitionWeight"/>), over a rollout of 2T; an activity penalty 0.01 · mean(h²); the learning rate warmed up over 200 steps; the best
    /// checkpoint by every verdict on the validation split. 80 epochs of 30–40-step sequences, 60 of linear2's 100-step ones.
    /// </summary>
    public const double QuickPairWeight = 10, QuickActivityWeight = 0.01;

    /// <summary>
    /// The quick preset's weight on the one-step transition matrix (<see cref="TransitionWeight"/>): 100, an error of 0.01 adds 1 to
    /// the loss. Tuning seeds (2026-12-05, d = 100): linear2 seed 11's transition error 0.0129 → 0.0032, seed 10's 0.0043 →
    /// 0.0019 (likelihood −5.4% → −0.5%); cyclic4 seed 10's lag error 0.023 → 0.010 and dwell 10.0% → 9.3%; against it,
    /// linear2 seed 11's dwell 13.5% → 27%. docs/hmm-training.md.
    /// </summary>
    public const double QuickTransitionWeight = 100;

    /// <summary>The quick preset's start positions, n-gram order and warm-up steps (see <see cref="QuickPairWeight"/>).</summary>
    public const int QuickStartPairs = 10, QuickNGrams = 4, QuickWarmupSteps = 200;

    /// <summary>
    /// The quick preset's noise dimension d: the paper's 100 (until 2026-12-05 the quick preset drew 10). With PyTorch's
    /// initialisation U(−1/√|h|, 1/√|h|) each unit's noise input has variance d / (3|h|): 0.07 at d = 10, 0.67 at d = 100. At
    /// d = 10 cyclic4's networks made the middle symbol's runs too dispersed at every seed (dwell 12–17% short); at d = 100,
    /// tuning seeds 10 and 11: dwell 10.0% and 7.2% (seed 11 faithful), d = 30 14.6% and 14.3%; fully3 seed 10 faithful (dwell
    /// 3.5%, lag error 0.004). linear2 drew d = 10 until its training could roll back (<see cref="Trainer.MaxRollbacks"/>): at
    /// d = 100 every batch of its 200-step rollouts overflowed within 8–10 epochs; with rollbacks, tuning seeds 10–12 trained
    /// through, all bounded (peak 15–35 × the median, against 53–120 × at d = 10) with dwell times 10–14% short (25–29% at
    /// d = 10). docs/hmm-training.md.
    /// </summary>
    public const int QuickInput = 100;

    /// <summary>The quick preset's pair lags (the lag verdict's range; fewer for sequences of 20 steps or less).</summary>
    public const int QuickPairLags = 20;

    /// <summary>The model emulated: the custom one, or the catalogue entry (throws naming the known models).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public CatalogueEntry Entry => Custom is { } c ? c.ToEntry(Hmm) : HmmCatalogue.Named(Hmm);

    /// <summary>The gradient clip in force.</summary>
    public double EffectiveGradClip => GradClip ?? (Entry.Family == HmmFamily.LinearChain ? 0.9 : 0.3);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field and its value; returns this.</summary>
    public HmmTrainingConfig Validate()
    {
        // The model's problem as data (Core's checks): the catalogue name, or the custom matrices' first bad field.
        if (Custom is { } custom)
        {
            if (custom.Problem() is { } matrices) ConfigRules.Fail(nameof(Custom), "(matrices)", matrices.ToString());
        }
        else if (HmmCatalogue.Problem(Hmm) is { } unknown) ConfigRules.Fail(nameof(Hmm), Hmm, unknown.Rule);
        if (Hidden <= 0) ConfigRules.Fail(nameof(Hidden), Hidden, "must be > 0");
        if (Input <= 0) ConfigRules.Fail(nameof(Input), Input, "must be > 0");
        if (TrainSequences <= 0) ConfigRules.Fail(nameof(TrainSequences), TrainSequences, "must be > 0");
        if (ValidationSequences <= 0) ConfigRules.Fail(nameof(ValidationSequences), ValidationSequences, "must be > 0");
        if (TestSequences < 0) ConfigRules.Fail(nameof(TestSequences), TestSequences, "must be ≥ 0");
        if (Batch <= 1) ConfigRules.Fail(nameof(Batch), Batch, "must be > 1");
        if (Batch > TrainSequences) ConfigRules.Fail(nameof(Batch), Batch, $"must not exceed TrainSequences ({TrainSequences})");
        if (!(LearningRate > 0 && double.IsFinite(LearningRate))) ConfigRules.Fail(nameof(LearningRate), LearningRate, "must be finite and > 0");
        if (LearningRateHalfLife is double h && !(h > 0 && double.IsFinite(h))) ConfigRules.Fail(nameof(LearningRateHalfLife), h, "must be finite and > 0");
        if (LearningRateDecayFrom is int from && from < 0) ConfigRules.Fail(nameof(LearningRateDecayFrom), from, "must be ≥ 0");
        if (LearningRateDecayFrom is int && LearningRateHalfLife is null)
            ConfigRules.Fail(nameof(LearningRateDecayFrom), LearningRateDecayFrom, "needs LearningRateHalfLife (the decay it starts)");
        if (!Selections.Contains(Selection)) ConfigRules.Fail(nameof(Selection), Selection, $"must be one of {string.Join(", ", Selections)}");
        if (!(Beta1 >= 0 && Beta1 < 1)) ConfigRules.Fail(nameof(Beta1), Beta1, "must be in [0, 1)");
        if (!(Beta2 >= 0 && Beta2 < 1)) ConfigRules.Fail(nameof(Beta2), Beta2, "must be in [0, 1)");
        if (GradClip is double c && !(c > 0 && double.IsFinite(c))) ConfigRules.Fail(nameof(GradClip), c, "must be finite and > 0");
        if (!double.IsFinite(RecurrentIdentity)) ConfigRules.Fail(nameof(RecurrentIdentity), RecurrentIdentity, "must be finite");
        if (!(Temperature > 0 && double.IsFinite(Temperature))) ConfigRules.Fail(nameof(Temperature), Temperature, "must be finite and > 0");
        if (!(PairWeight >= 0 && double.IsFinite(PairWeight))) ConfigRules.Fail(nameof(PairWeight), PairWeight, "must be finite and ≥ 0");
        if (PairLags is int lags && !(lags >= 1 && lags < Entry.SequenceLength))
            ConfigRules.Fail(nameof(PairLags), lags, $"must be in [1, {Entry.SequenceLength - 1}] (below the sequence length)");
        if (WarmupSteps is int warm && warm < 1) ConfigRules.Fail(nameof(WarmupSteps), warm, "must be ≥ 1");
        if (NGrams is int grams && !(grams >= 3 && grams <= Math.Min(6, Entry.SequenceLength)))
            ConfigRules.Fail(nameof(NGrams), grams, $"must be in [3, {Math.Min(6, Entry.SequenceLength)}] (at most 6 and the sequence length)");
        if (RunLengths is int runs && !(runs >= 1 && runs < Entry.SequenceLength))
            ConfigRules.Fail(nameof(RunLengths), runs, $"must be in [1, {Entry.SequenceLength - 1}] (below the sequence length)");
        if (TransitionWeight is double tw && !(tw >= 0 && double.IsFinite(tw))) ConfigRules.Fail(nameof(TransitionWeight), tw, "must be finite and ≥ 0");
        if (StartPairs is int start && !(start >= 1 && start < Entry.SequenceLength))
            ConfigRules.Fail(nameof(StartPairs), start, $"must be in [1, {Entry.SequenceLength - 1}] (below the sequence length)");
        if (!(ActivityWeight >= 0 && double.IsFinite(ActivityWeight))) ConfigRules.Fail(nameof(ActivityWeight), ActivityWeight, "must be finite and ≥ 0");
        if (Rollout is int rollout && !(rollout >= Entry.SequenceLength && rollout <= 100 * Entry.SequenceLength))
            ConfigRules.Fail(nameof(Rollout), rollout, $"must be in [{Entry.SequenceLength}, {100 * Entry.SequenceLength}] (the sequence length up to 100 ×)");
        if (!(Blur > 0 && double.IsFinite(Blur))) ConfigRules.Fail(nameof(Blur), Blur, "must be finite and > 0");
        if (!(Scaling > 0 && Scaling < 1)) ConfigRules.Fail(nameof(Scaling), Scaling, "must be in (0, 1)");
        ConfigRules.CheckLoop(this);
        return this;
    }

    /// <inheritdoc />
    public string Describe() =>
        $"{Hmm} ({PresetName}): |h| = {Hidden}, d = {Input}, batch {Batch}, Adam lr {LearningRate}" +
        (LearningRateHalfLife is double h ? $" halving every {h} epochs" + (LearningRateDecayFrom is int from and > 0 ? $" from epoch {from}" : "") : "") + $", {Epochs} epochs, best by {Selection}, seed {Seed}";

    /// <inheritdoc />
    [System.Text.Json.Serialization.JsonIgnore]
    public string TaskMetric => "transition_error";

    /// <inheritdoc />
    public void Check() => Validate();

    /// <inheritdoc />
    public ITrainingTask Create(TorchSharp.torch.Device device) => new HmmTask(Validate(), device);

    /// <summary>A hash of everything but the epoch count and logging: a checkpoint resumes only a run with the same hash.</summary>
    public string Hash() => RunConfig.HashOf(this with { Epochs = 0, LogEvery = 0 });
}

/// <summary>An HMM given by its matrices (e.g. in an experiment file), with the sequence length to train on.</summary>
/// <param name="Initial">π, the initial state distribution.</param>
/// <param name="Transition">A, rows: from state; columns: to state.</param>
/// <param name="Emission">B, rows: state; columns: symbol.</param>
/// <param name="SequenceLength">T, steps per training sequence.</param>
/// <param name="Family">Its structure (sets the paper's gradient clip: 0.9 for linear chains, 0.3 otherwise).</param>
public sealed record CustomHmm(double[] Initial, double[][] Transition, double[][] Emission, int SequenceLength,
    HmmFamily Family = HmmFamily.FullyConnected)
{
    /// <summary>
    /// Why these matrices make no model, as data (Core's <see cref="Core.HiddenMarkov.Hmm.Problem"/>; the field names the array, as
    /// "transition[1]", or "sequenceLength"), or null.
    /// </summary>
    public Violation? Problem() =>
        Core.HiddenMarkov.Hmm.Problem(Initial, Transition, Emission) ?? (SequenceLength < 2 ? Violation.Of("sequenceLength", SequenceLength, "must be ≥ 2") : null);

    /// <summary>Validates the matrices (<see cref="Problem"/>, thrown as an <see cref="ArgumentException"/> naming the bad one) and returns the model as a catalogue entry.</summary>
    public CatalogueEntry ToEntry(string name)
    {
        if (Problem() is { } problem) throw problem.ToException();
        var hmm = new Core.HiddenMarkov.Hmm(ProbabilityVector.Create(Initial, "initial"), StochasticMatrix.FromRows(Transition, "transition"),
            StochasticMatrix.FromRows(Emission, "emission"));
        return new CatalogueEntry(name, Family, hmm, SequenceLength, "custom matrices");
    }

    /// <summary>Value equality over the matrices' entries (records compare arrays by reference).</summary>
    public bool Equals(CustomHmm? other) => other is not null && Initial.AsSpan().SequenceEqual(other.Initial) &&
        SequenceLength == other.SequenceLength && Family == other.Family && Same(Transition, other.Transition) && Same(Emission, other.Emission);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(SequenceLength, Family, Initial.Length, Transition.Length);

    private static bool Same(double[][] a, double[][] b) => a.Length == b.Length && a.Zip(b).All(p => p.First.AsSpan().SequenceEqual(p.Second));
}
