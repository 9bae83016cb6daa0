using System.Collections.Immutable;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using Spectre.Console;
using HmmRnn.Host.Output;

namespace HmmRnn.Host.Cli;

/// <summary>
/// <c>bench …</c>: timings printed as tables (docs/benchmarks.md records them with the machine). Every whole-number option
/// has a range and the sizes that multiply into memory a bound (<see cref="Bounds"/>, declared beside the options and shown
/// by <c>--help</c>), checked before any work: a bad value is one line, exit 2.
/// </summary>
internal static class BenchCommands
{
    /// <summary>The most timed repetitions or steps of any bench (time, not memory: a typo should not run for days).</summary>
    public const int MaxRepeat = 10_000;

    /// <summary>
    /// The memory bound of the sizes that multiply into one array: 100,000,000 elements (forward's sampled symbols n × T,
    /// radd's teacher states steps × units, train's activations batch × T × |h| and inputs batch × T × d, sinkhorn's clouds
    /// drawn before timing n × T × steps): 0.4 GB as float32 or int, 0.8 GB as double, 1.2 GB for sinkhorn's 3 one-hot columns.
    /// </summary>
    public const long MaxElements = 100_000_000;

    public static Command Create()
    {
        var cmd = new Command("bench", "Benchmarks that print a table. Record results in docs/benchmarks.md with the machine.");
        cmd.Subcommands.Add(Forward());
        cmd.Subcommands.Add(Ibl());
        cmd.Subcommands.Add(RaddFit());
        cmd.Subcommands.Add(Train());
        cmd.Subcommands.Add(SinkhornStep());
        return cmd;
    }

    private static Command Forward()
    {
        var ks = new Option<int[]>("--K") { Description = "State counts to time.", DefaultValueFactory = _ => [2, 5, 10], AllowMultipleArgumentsPerToken = true };
        var length = new Option<int>("--T") { Description = "Sequence length.", DefaultValueFactory = _ => 100 };
        var count = new Option<int>("--n") { Description = "Sequences per batch.", DefaultValueFactory = _ => 2000 };
        var repeat = new Option<int>("--repeat") { Description = "Timed repetitions; the best is reported.", DefaultValueFactory = _ => 200 };
        var data = new Option<string?>("--data")
        {
            Description = "Prefix of the files written by shared/bench/forward_numpy.py --dump PREFIX: filter the very same " +
                          "models and sequences, and check the summed log-likelihood to 1e-9 relative.",
        };
        var cmd = new Command("forward", "Forward-filter log-likelihood: µs per sequence, one thread and all cores.")
        {
            ks, length, count, repeat, data,
        };
        var bounds = new Bounds(cmd) { { ks, 1, 1_000 }, { length, 1, 100_000 }, { count, 1, 1_000_000 }, { repeat, 1, MaxRepeat }, { MaxElements, count, length } };
        cmd.SetAction(r =>
        {
            if (bounds.Refusal(r) is int refused) return refused;
            // The dumps are read before any timing: a missing or damaged one is refused in one line.
            var models = new List<(int K, Hmm Hmm, ImmutableArray<int>[] Sequences, double? Reference)>();
            var prefix = r.GetValue(data);
            if (prefix is not null && string.IsNullOrWhiteSpace(prefix)) return Cli.Refuse(data, $"'{prefix}'", "names no file prefix");
            if (prefix is not null && r.GetValue(ks)!.FirstOrDefault(k => !File.Exists($"{prefix}.K{k}.txt")) is var k0 and > 0)
                return Cli.Refuse(data, $"{prefix}.K{k0}.txt", $"must name an existing dump for --K {k0} (forward_numpy.py --dump PREFIX writes PREFIX.K{k0}.txt)");
            foreach (var k in r.GetValue(ks)!)
            {
                var path = $"{prefix}.K{k}.txt";
                try
                {
                    var (hmm, sequences, reference) = prefix is null ? Synthetic(k, r.GetValue(length), r.GetValue(count)) : Read(path);
                    models.Add((k, hmm, sequences, reference));
                }
                catch (InvalidDataException e) { return Cli.Fail($"--data: {e.Message}"); }
            }
            var table = new Table().AddColumns("K", "T", "n", "1 thread µs/seq", "ns per K²T madd", $"{Environment.ProcessorCount} threads µs/seq",
                "sum log-lik", "reference sum", "rel. diff");
            bool ok = true;
            foreach (var (k, hmm, seqs, reference) in models)
            {
                int T = seqs[0].Length, n = seqs.Length;
                var reps = r.GetValue(repeat);
                double sum = 0;
                var one = Best(reps, () => sum = Filtering.LogLikelihoods(hmm, seqs, parallel: false).Sum());
                var all = Best(reps, () => Filtering.LogLikelihoods(hmm, seqs, parallel: true));
                var rel = reference is double refSum ? Math.Abs(sum - refSum) / Math.Abs(refSum) : double.NaN;
                if (rel > 1e-9) ok = false;
                table.AddTextRow(k.ToString(), T.ToString(), n.ToString(), Format.F(one * 1e6 / n, 3),
                    Format.F(one * 1e9 / n / ((double)k * k * T), 3), Format.F(all * 1e6 / n, 3),
                    sum.ToString("F6", CultureInfo.InvariantCulture),
                    reference?.ToString("F6", CultureInfo.InvariantCulture) ?? "-", double.IsNaN(rel) ? "-" : rel.ToString("E2", CultureInfo.InvariantCulture));
            }
            AnsiConsole.Write(table);
            if (!ok) Console.Error.WriteLine("log-likelihood sums differ from the reference by more than 1e-9 relative");
            return ok ? 0 : 1;
        });
        return cmd;
    }

    private static Command Ibl()
    {
        var trials = new Option<int>("--trials") { Description = "Trials in the session.", DefaultValueFactory = _ => 10_000 };
        var repeat = new Option<int>("--repeat") { Description = "Timed repetitions; the best is reported.", DefaultValueFactory = _ => 20 };
        var cmd = new Command("ibl", "Bayesian agents on the IBL task: one session through each agent (with the exact observer alongside), one thread.")
        {
            trials, repeat,
        };
        // A session's trial records: ≤ 1,000,000 of them (about 100 MB).
        var bounds = new Bounds(cmd) { { trials, 1, 1_000_000 }, { repeat, 1, MaxRepeat } };
        cmd.SetAction(r =>
        {
            if (bounds.Refusal(r) is int refused) return refused;
            var n = r.GetValue(trials);
            var table = new Table().AddColumns("agent", "trials", "ms per session", "trials / s", "µs / trial");
            foreach (var name in Core.Ibl.BayesianAgent.Names)
            {
                var agent = Core.Ibl.BayesianAgent.Named(name);
                var t = Best(r.GetValue(repeat), () => Core.Ibl.IblSimulation.Run(Core.Ibl.IblTaskConfig.Paper, agent, n, Rng.FromSeed(1)));
                table.AddTextRow(name, n.ToString(), Format.F(t * 1e3, 1), Format.F(n / t, 0), Format.F(t * 1e6 / n, 2));
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return cmd;
    }

    private static Command RaddFit()
    {
        var steps = new Option<int[]>("--steps") { Description = "Teacher steps to distil.", DefaultValueFactory = _ => [10_000, 100_000], AllowMultipleArgumentsPerToken = true };
        var hidden = new Option<int>("--hidden") { Description = "Teacher units.", DefaultValueFactory = _ => 50 };
        var repeat = new Option<int>("--repeat") { Description = "Timed repetitions; the best is reported.", DefaultValueFactory = _ => 5 };
        var cmd = new Command("radd", "RADD's closed-form fit (projection to 2 units + OLS) on a random tanh teacher driven by the IBL task's inputs, one thread. " +
            "The paper reports < 1 min for RADD against ≈ 5 h of gradient steps for conventional distillation.")
        {
            steps, hidden, repeat,
        };
        // From 100 steps: the fit has 6 regressors a unit and needs the task's inputs to vary.
        var bounds = new Bounds(cmd) { { steps, 100, 10_000_000 }, { hidden, 1, 1_000 }, { repeat, 1, MaxRepeat }, { MaxElements, steps, hidden } };
        cmd.SetAction(r =>
        {
            if (bounds.Refusal(r) is int refused) return refused;
            int n = r.GetValue(hidden);
            var table = new Table().AddColumns("teacher units", "steps", "project ms", "fit ms", "R² (unit 1, unit 2)");
            foreach (var count in r.GetValue(steps)!)
            {
                var (states, inputs, projection) = RaddTeacher(n, count, Rng.FromSeed(1));
                ImmutableArray<ImmutableArray<double>> z = default;
                var project = Best(r.GetValue(repeat), () => z = Analysis.Dynamics.Radd.Project(states, projection));
                Analysis.Dynamics.RaddModel model = null!;
                var fit = Best(r.GetValue(repeat), () => model = Analysis.Dynamics.Radd.Fit([new Analysis.Dynamics.RaddSequence(z, inputs)]));
                table.AddTextRow(n.ToString(), count.ToString(), Format.F(project * 1e3, 1), Format.F(fit * 1e3, 1),
                    $"{Format.F(model.Fit.RSquared[0], 3)}, {Format.F(model.Fit.RSquared[1], 3)}");
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return cmd;
    }

    /// <summary>A random tanh RNN (gain 0.9, no bias) run on the IBL task's inputs (an agent that always waits for the last step), and 2 random projection rows.</summary>
    private static (ImmutableArray<double>[] States, ImmutableArray<ImmutableArray<double>> Inputs, ImmutableArray<double>[] Projection) RaddTeacher(int n, int count, Rng rng)
    {
        var w = new double[n * n];
        var u = new double[n * 3];
        var p = new double[2 * n];
        rng = rng.FillNormal(w).FillNormal(u).FillNormal(p);
        for (int i = 0; i < w.Length; i++) w[i] *= 0.9 / Math.Sqrt(n);
        // The projection rows double as the teacher's readout (RADD projects onto readouts); it has no bias.
        var teacher = new Core.Rnn.TanhRnnWeights(n, 3, 2, [.. w], [.. u], [.. new double[n]], [.. p], [0.0, 0.0]);
        var env = Core.Ibl.IblEnvironment.Start(Core.Ibl.IblTaskConfig.Paper, rng);
        var h = new double[n];
        var states = new ImmutableArray<double>[count];
        var inputs = ImmutableArray.CreateBuilder<ImmutableArray<double>>(count);
        for (int t = 0; t < count; t++)
        {
            var step = env.Current;
            double[] o = [step.Input.Left, step.Input.Right, step.Input.Feedback];
            h = Core.Rnn.TanhRnn.Step(teacher, h, o);
            states[t] = [.. h];
            inputs.Add([.. o]);
            (_, env) = Core.Ibl.IblEnvironment.Advance(env, step.IsLastStep ? Core.Ibl.Side.Left : null);
        }
        var projection = new[] { ImmutableArray.Create(p, 0, n), ImmutableArray.Create(p, n, n) };
        return (states, inputs.MoveToImmutable(), projection);
    }

    private static Command Train()
    {
        var batch = new Option<int>("--batch") { Description = "Sequences per batch.", DefaultValueFactory = _ => 512 };
        var length = new Option<int[]>("--T") { Description = "Sequence lengths.", DefaultValueFactory = _ => [30], AllowMultipleArgumentsPerToken = true };
        var hidden = new Option<int>("--hidden") { Description = "|h|.", DefaultValueFactory = _ => 150 };
        var input = new Option<int>("--input") { Description = "d.", DefaultValueFactory = _ => 100 };
        var steps = new Option<int>("--steps") { Description = "Timed steps (the median is reported).", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps first.", DefaultValueFactory = _ => 3 };
        var device = new Option<string>("--device") { Description = "cpu or cuda (refused where this machine has no CUDA).", DefaultValueFactory = _ => "cpu" };
        var pairs = new Option<double>("--pair-weight") { Description = "Weight of the pair-frequency term (quick preset 10; 0: the Sinkhorn loss alone, as the reference script).", DefaultValueFactory = _ => 0 };
        var kernels = new Option<string[]>("--kernel")
        {
            Description = "Sinkhorn implementations, each timed from the same weights and targets: general (the tensor loss), onehot (issue 23), auto (what training runs).",
            DefaultValueFactory = _ => ["general", "onehot"], AllowMultipleArgumentsPerToken = true,
        };
        kernels.AcceptOnlyFromAmong("general", "onehot", "auto");
        var breakdown = new Option<bool>("--breakdown")
        {
            Description = "Also time the step's parts (medians): the network's forward pass with the Gumbel-softmax, the loss, the backward pass, clipping with Adam. Needs --pair-weight 0.",
        };
        var cmd = new Command("train", "ms per training step, the recipe of shared/bench/hmmrnn_torch.py (random one-hot targets; timing does not depend on their law).")
        {
            batch, length, hidden, input, steps, warmup, device, pairs, kernels, breakdown,
        };
        // As training's bounds (HmmDescriptor), and from T = 2 (the pair targets need two steps).
        var bounds = new Bounds(cmd)
        {
            { batch, 2, Tasks.Hmm.HmmDescriptor.MaxBatch }, { length, 2, 1_000 }, { hidden, 1, Tasks.Hmm.HmmDescriptor.MaxHidden },
            { input, 1, Tasks.Hmm.HmmDescriptor.MaxInput }, { steps, 1, MaxRepeat }, { warmup, 0, MaxRepeat },
            { MaxElements, batch, length, hidden }, { MaxElements, batch, length, input },
        };
        cmd.SetAction(r =>
        {
            if (bounds.Refusal(r) is int refused) return refused;
            if (r.GetValue(pairs) is var weight && !(weight >= 0 && double.IsFinite(weight))) return Cli.Refuse(pairs, weight, "must be finite and ≥ 0");
            // Checked before the device is touched: creating a CUDA device where there is none prints libtorch's load trace.
            if (Training.Devices.Problem(r.GetValue(device)) is { } unavailable) return Cli.Refuse(unavailable, cmd.Options);
            int b = r.GetValue(batch);
            bool parts = r.GetValue(breakdown);
            if (parts && r.GetValue(pairs) != 0) return Cli.Fail("--breakdown times the Sinkhorn loss alone: give --pair-weight 0 with it");
            var dev = Training.Devices.Select(r.GetValue(device)!);
            var config = Tasks.Hmm.HmmTrainingConfig.Preset("paper", "linear3") with
            {
                Hidden = r.GetValue(hidden), Input = r.GetValue(input), Batch = b, PairWeight = r.GetValue(pairs),
            };
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version} (libtorch {TorchSharp.torch.__version__}) {r.GetValue(device)} batch={b} hidden={config.Hidden} input={config.Input} threads={TorchSharp.torch.get_num_threads()}, {Environment.ProcessorCount} cores, {Training.MklVendorCheck.Summary()}"));
            var table = new Table().AddColumns("T", "kernel", "median ms/step", "min ms/step", "last loss");
            if (parts) table.AddColumns("forward ms", "loss ms", "backward ms", "clip + Adam ms");
            void Sync() { if (dev.type == TorchSharp.DeviceType.CUDA) TorchSharp.torch.cuda.synchronize(); }
            foreach (var T in r.GetValue(length)!)
                foreach (var kernel in r.GetValue(kernels)!.Select(ParseKernel))
                {
                    TorchSharp.torch.manual_seed(0);
                    using var model = new Tasks.Hmm.HmmRnnModel(config.Hidden, config.Input, 3);
                    model.to(dev);
                    using var optimizer = TorchSharp.torch.optim.Adam(model.parameters(), lr: 1e-3, beta1: 0.9, beta2: 0.9);
                    using var target = TorchSharp.torch.nn.functional.one_hot(TorchSharp.torch.randint(0, 3, [b, T], device: dev), 3)
                        .to(TorchSharp.torch.ScalarType.Float32).reshape(b, -1);
                    using var pairTargets = new Tasks.Hmm.PairTargets(Tasks.Hmm.HmmTask.PairFrequenciesUpTo(target.reshape(b, T, 3), 1), null);
                    var times = new List<double>();
                    var pieces = new List<double[]>();
                    double loss = 0;
                    for (int i = 0; i < r.GetValue(warmup) + r.GetValue(steps); i++)
                    {
                        Sync();
                        var sw = Stopwatch.StartNew();
                        if (parts)
                        {
                            // HmmTask.Step's work, with pair weight 0 and no rollout (the paper preset), in four timed parts.
                            using var scope = TorchSharp.torch.NewDisposeScope();
                            var marks = new double[4];
                            var (_, sequences) = model.EmitWithStates(b, T, config.Temperature, null);
                            var outputs = sequences.reshape(b, -1);
                            Sync(); marks[0] = sw.Elapsed.TotalMilliseconds;
                            var value = Tasks.Hmm.SinkhornLoss.Divergence(outputs, target, new Analysis.Numerics.SinkhornOptions(), kernel);
                            Sync(); marks[1] = sw.Elapsed.TotalMilliseconds;
                            optimizer.zero_grad();
                            value.backward();
                            Sync(); marks[2] = sw.Elapsed.TotalMilliseconds;
                            TorchSharp.torch.nn.utils.clip_grad_norm_(model.parameters(), config.EffectiveGradClip);
                            optimizer.step();
                            loss = value.ToDouble();
                            Sync(); marks[3] = sw.Elapsed.TotalMilliseconds;
                            if (i >= r.GetValue(warmup)) pieces.Add([marks[0], marks[1] - marks[0], marks[2] - marks[1], marks[3] - marks[2]]);
                        }
                        else
                            loss = Tasks.Hmm.HmmTask.Step(model, optimizer, target, T, null, new Analysis.Numerics.SinkhornOptions(), config,
                                pairTargets, kernel);
                        Sync();
                        if (i >= r.GetValue(warmup)) times.Add(sw.Elapsed.TotalMilliseconds);
                    }
                    times.Sort();
                    var row = new List<string>
                    {
                        T.ToString(CultureInfo.InvariantCulture), kernel.ToString(), Format.F(times[times.Count / 2], 1), Format.F(times[0], 1), Format.F(loss, 4),
                    };
                    if (parts)
                        for (int k = 0; k < 4; k++)
                        {
                            var part = pieces.Select(p => p[k]).OrderBy(v => v).ToList();
                            row.Add(Format.F(part[part.Count / 2], 1));
                        }
                    table.AddTextRow([.. row]);
                }
            AnsiConsole.Write(table);
            return 0;
        });
        return cmd;
    }

    private static Command SinkhornStep()
    {
        var count = new Option<int>("--n") { Description = "Points per cloud (the batch).", DefaultValueFactory = _ => 4096 };
        var length = new Option<int[]>("--T")
        {
            Description = "Sequence lengths; points are T one-hot rows of 3 symbols, D = 3T.", DefaultValueFactory = _ => [30, 100], AllowMultipleArgumentsPerToken = true,
        };
        var steps = new Option<int>("--steps") { Description = "Timed repetitions (the median is reported).", DefaultValueFactory = _ => 5 };
        var kernels = new Option<string[]>("--kernel")
        {
            Description = "Implementations to time: general (the tensor loss), onehot (issue 23's kernel for binary clouds).",
            DefaultValueFactory = _ => ["general", "onehot"], AllowMultipleArgumentsPerToken = true,
        };
        kernels.AcceptOnlyFromAmong("general", "onehot", "auto");
        var cmd = new Command("sinkhorn", "The training loss alone: the debiased Sinkhorn divergence between two clouds of one-hot sequences, forward and backward, " +
            "at the paper's blur and scaling; each kernel on the same clouds, with its value and gradient against the first kernel's.")
        {
            count, length, steps, kernels,
        };
        // n as a training batch (its n × n cost matrices); the clouds are drawn before timing: n × T × steps.
        var bounds = new Bounds(cmd) { { count, 2, Tasks.Hmm.HmmDescriptor.MaxBatch }, { length, 1, 1_000 }, { steps, 1, 1_000 }, { MaxElements, count, length, steps } };
        cmd.SetAction(r =>
        {
            if (bounds.Refusal(r) is int refused) return refused;
            int n = r.GetValue(count);
            var chosen = r.GetValue(kernels)!.Select(ParseKernel).ToArray();
            Training.MklVendorCheck.Apply(); // no device to select: before the first product, as a selection would
            Console.WriteLine(Training.MklVendorCheck.Summary());
            var table = new Table().AddColumns("n", "T", "D", "kernel", "threads", "median ms (fwd+bwd)", "min ms", "max ms", "value", "value rel. diff", "gradient rel. diff");
            foreach (var T in r.GetValue(length)!)
            {
                TorchSharp.torch.manual_seed(0);
                TorchSharp.torch.Tensor OneHot() => TorchSharp.torch.nn.functional.one_hot(TorchSharp.torch.randint(0, 3, [n, T]), 3).to(TorchSharp.torch.ScalarType.Float32).reshape(n, -1);
                using var y = OneHot();
                var clouds = Enumerable.Range(0, 1 + r.GetValue(steps)).Select(_ => OneHot()).ToArray();
                double? firstValue = null;
                float[]? firstGradient = null;
                foreach (var kernel in chosen)
                {
                    var times = new List<double>();
                    double value = 0;
                    float[] gradient = [];
                    for (int i = 0; i < clouds.Length; i++)
                    {
                        using var scope = TorchSharp.torch.NewDisposeScope();
                        var x = clouds[i].detach().clone().requires_grad_();
                        var sw = Stopwatch.StartNew();
                        var loss = Tasks.Hmm.SinkhornLoss.Divergence(x, y, new Analysis.Numerics.SinkhornOptions(), kernel);
                        loss.backward();
                        value = loss.ToDouble();
                        if (i > 0) times.Add(sw.Elapsed.TotalMilliseconds);
                        if (i == clouds.Length - 1) gradient = x.grad!.data<float>().ToArray();
                    }
                    times.Sort();
                    string valueDiff = "-", gradientDiff = "-";
                    if (firstValue is double v0 && firstGradient is { } g0)
                    {
                        valueDiff = (Math.Abs(value - v0) / Math.Abs(v0)).ToString("E1", CultureInfo.InvariantCulture);
                        double num = 0, den = 0;
                        for (int k = 0; k < g0.Length; k++) { num += (gradient[k] - (double)g0[k]) * (gradient[k] - (double)g0[k]); den += (double)g0[k] * g0[k]; }
                        gradientDiff = Math.Sqrt(num / den).ToString("E1", CultureInfo.InvariantCulture);
                    }
                    else (firstValue, firstGradient) = (value, gradient);
                    table.AddTextRow(n.ToString(CultureInfo.InvariantCulture), T.ToString(CultureInfo.InvariantCulture), (3 * T).ToString(CultureInfo.InvariantCulture),
                        kernel.ToString(), TorchSharp.torch.get_num_threads().ToString(CultureInfo.InvariantCulture),
                        Format.F(times[times.Count / 2], 1), Format.F(times[0], 1), Format.F(times[^1], 1), Format.F(value, 5), valueDiff, gradientDiff);
                }
                foreach (var c in clouds) c.Dispose();
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return cmd;
    }

    private static Tasks.Hmm.SinkhornKernel ParseKernel(string name) => name switch
    {
        "general" => Tasks.Hmm.SinkhornKernel.General,
        "onehot" => Tasks.Hmm.SinkhornKernel.OneHot,
        "auto" => Tasks.Hmm.SinkhornKernel.Auto,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "--kernel accepts general, onehot or auto"),
    };

    private static double Best(int repeats, Action work)
    {
        work(); // warm-up (JIT, tiering)
        work();
        var best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            work();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static (Hmm, ImmutableArray<int>[], double?) Synthetic(int k, int T, int n)
    {
        var rng = Rng.FromSeed(k);
        StochasticMatrix Random(int rows, int cols)
        {
            var m = new double[rows][];
            for (int i = 0; i < rows; i++)
            {
                var w = new double[cols];
                rng = rng.FillUniform(w);
                m[i] = ProbabilityVector.Normalize(w.Select(x => x + 1e-3).ToArray()).AsSpan().ToArray();
            }
            return StochasticMatrix.FromRows(m);
        }
        var hmm = new Hmm(ProbabilityVector.Uniform(k), Random(k, k), Random(k, 3));
        return (hmm, [.. HmmSampling.Sample(hmm, n, T, rng).Outputs], null);
    }

    /// <summary>
    /// Reads forward_numpy.py's dump: "K V T n", π, K rows of A, K rows of B, n sequences, the summed log-likelihood.
    /// A file that is not such a dump throws <see cref="InvalidDataException"/> naming it and the line.
    /// </summary>
    private static (Hmm, ImmutableArray<int>[], double?) Read(string path)
    {
        var lines = File.ReadAllLines(path);
        int at = 0;
        string Line(string what) => at < lines.Length ? lines[at++] : throw new InvalidDataException($"{path}: ends before {what} (line {at + 1})");
        T[] Numbers<T>(string what, int? count = null) where T : struct, System.Numerics.INumber<T>
        {
            var line = Line(what);
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var values = new T[words.Length];
            for (int i = 0; i < words.Length; i++)
                if (!T.TryParse(words[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                    throw new InvalidDataException($"{path}: line {at}, {what}: '{words[i]}' is not a number");
            if (count is int c && values.Length != c) throw new InvalidDataException($"{path}: line {at}, {what}: {values.Length} numbers, not {c}");
            return values;
        }
        var head = Numbers<int>("the header K V T n", 4);
        int k = head[0], symbols = head[1], n = head[3];
        if (k < 1 || symbols < 1 || head[2] < 1 || n < 1) throw new InvalidDataException($"{path}: line 1: K V T n must be ≥ 1, got {string.Join(' ', head)}");
        if (2L + 2L * k + n + 1 > lines.Length) throw new InvalidDataException($"{path}: {lines.Length} lines, but its header (K = {k}, n = {n}) needs {2L + 2L * k + n + 1}");
        var pi = Numbers<double>("π", k);
        var a = Enumerable.Range(0, k).Select(_ => Numbers<double>("a row of A", k)).ToArray();
        var b = Enumerable.Range(0, k).Select(_ => Numbers<double>("a row of B", symbols)).ToArray();
        if (Hmm.Problem(pi, a, b) is { } problem) throw new InvalidDataException($"{path}: the model: {problem}");
        var seqs = new ImmutableArray<int>[n];
        for (int i = 0; i < n; i++)
        {
            var seq = Numbers<int>("a sequence", head[2]);
            if (seq.Any(o => o < 0 || o >= symbols)) throw new InvalidDataException($"{path}: line {at}: a symbol outside 0 … {symbols - 1}");
            seqs[i] = [.. seq];
        }
        var sum = Numbers<double>("the summed log-likelihood", 1)[0];
        return (new Hmm(ProbabilityVector.Create(pi), StochasticMatrix.FromRows(a), StochasticMatrix.FromRows(b)), seqs, sum);
    }
}
