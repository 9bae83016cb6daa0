using System.Collections.Immutable;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using HmmRnn.Core;
using Spectre.Console;

namespace HmmRnn.Host.Cli;

/// <summary><c>bench …</c>: timings printed as tables (docs/benchmarks.md records them with the machine).</summary>
internal static class BenchCommands
{
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
        cmd.SetAction(r =>
        {
            var table = new Table().AddColumns("K", "T", "n", "1 thread µs/seq", "ns per K²T madd", $"{Environment.ProcessorCount} threads µs/seq",
                "sum log-lik", "reference sum", "rel. diff");
            bool ok = true;
            foreach (var k in r.GetValue(ks)!)
            {
                var (hmm, seqs, reference) = r.GetValue(data) is { } prefix
                    ? Read($"{prefix}.K{k}.txt")
                    : Synthetic(k, r.GetValue(length), r.GetValue(count));
                int T = seqs[0].Length, n = seqs.Length;
                var reps = Math.Max(1, r.GetValue(repeat));
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
        cmd.SetAction(r =>
        {
            var n = r.GetValue(trials);
            var table = new Table().AddColumns("agent", "trials", "ms per session", "trials / s", "µs / trial");
            foreach (var name in Core.Ibl.BayesianAgent.Names)
            {
                var agent = Core.Ibl.BayesianAgent.Named(name);
                var t = Best(Math.Max(1, r.GetValue(repeat)), () => Core.Ibl.IblSimulation.Run(Core.Ibl.IblTaskConfig.Paper, agent, n, Rng.FromSeed(1)));
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
        cmd.SetAction(r =>
        {
            int n = r.GetValue(hidden);
            var table = new Table().AddColumns("teacher units", "steps", "project ms", "fit ms", "R² (unit 1, unit 2)");
            foreach (var count in r.GetValue(steps)!)
            {
                var (states, inputs, projection) = RaddTeacher(n, count, Rng.FromSeed(1));
                ImmutableArray<ImmutableArray<double>> z = default;
                var project = Best(Math.Max(1, r.GetValue(repeat)), () => z = Analysis.Radd.Project(states, projection));
                Analysis.RaddModel model = null!;
                var fit = Best(Math.Max(1, r.GetValue(repeat)), () => model = Analysis.Radd.Fit([new Analysis.RaddSequence(z, inputs)]));
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
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
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
        cmd.SetAction(r =>
        {
            var dev = r.GetValue(device) == "cuda" ? TorchSharp.torch.CUDA : TorchSharp.torch.CPU;
            int b = r.GetValue(batch);
            bool parts = r.GetValue(breakdown);
            if (parts && r.GetValue(pairs) != 0) return Cli.Fail("--breakdown times the Sinkhorn loss alone: give --pair-weight 0 with it");
            var config = Tasks.Hmm.HmmTrainingConfig.Preset("paper", "linear3") with
            {
                Hidden = r.GetValue(hidden), Input = r.GetValue(input), Batch = b, PairWeight = r.GetValue(pairs),
            };
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version} (libtorch {TorchSharp.torch.__version__}) {r.GetValue(device)} batch={b} hidden={config.Hidden} input={config.Input} threads={TorchSharp.torch.get_num_threads()}, {Environment.ProcessorCount} cores"));
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
                    using var pairTarget = Tasks.Hmm.HmmTask.PairFrequencies(target.reshape(b, T, 3));
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
                            var value = Tasks.Hmm.SinkhornLoss.Divergence(outputs, target, new Analysis.SinkhornOptions(), kernel);
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
                            loss = Tasks.Hmm.HmmTask.Step(model, optimizer, target, T, null, new Analysis.SinkhornOptions(), config,
                                new Tasks.Hmm.PairTargets([pairTarget], null), kernel);
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
        cmd.SetAction(r =>
        {
            int n = r.GetValue(count);
            var chosen = r.GetValue(kernels)!.Select(ParseKernel).ToArray();
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
                        var loss = Tasks.Hmm.SinkhornLoss.Divergence(x, y, new Analysis.SinkhornOptions(), kernel);
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

    /// <summary>Reads forward_numpy.py's dump: "K V T n", π, K rows of A, K rows of B, n sequences, the summed log-likelihood.</summary>
    private static (Hmm, ImmutableArray<int>[], double?) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--data: no file {path}; write it with forward_numpy.py --dump", path);
        var lines = File.ReadAllLines(path);
        double[] Doubles(string l) => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        var head = lines[0].Split(' ').Select(int.Parse).ToArray();
        int k = head[0], n = head[3];
        var pi = ProbabilityVector.Create(Doubles(lines[1]));
        var a = StochasticMatrix.FromRows(lines.Skip(2).Take(k).Select(Doubles).ToArray());
        var b = StochasticMatrix.FromRows(lines.Skip(2 + k).Take(k).Select(Doubles).ToArray());
        var seqs = lines.Skip(2 + 2 * k).Take(n)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToImmutableArray()).ToArray();
        return (new Hmm(pi, a, b), seqs, double.Parse(lines[2 + 2 * k + n], CultureInfo.InvariantCulture));
    }
}
