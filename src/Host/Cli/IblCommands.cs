using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using HmmRnn.Analysis.Ibl;
using HmmRnn.Core;
using HmmRnn.Core.Ibl;
using HmmRnn.Host.Output;
using HmmRnn.Host.Plots;
using HmmRnn.Host.Tasks.Ibl;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Cli;

/// <summary><c>ibl bayes</c>: Bayesian actors on the IBL task, written to a run folder.</summary>
internal static class IblCommands
{
    public static Command Create()
    {
        var cmd = new Command("ibl", "The IBL hierarchical inference task (Schaeffer et al. 2020).");
        cmd.Subcommands.Add(Bayes());
        cmd.Subcommands.Add(Train());
        cmd.Subcommands.Add(Analyze());
        cmd.Subcommands.Add(Distill());
        return cmd;
    }

    private static Command Distill()
    {
        var teacher = new Argument<string>("teacher") { Description = "The teacher: a run folder written by 'ibl train'." };
        var hidden = new Option<int>("--hidden") { Description = "Student units (the paper compares RADD with 2).", DefaultValueFactory = _ => 2 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs of 20 optimiser steps.", DefaultValueFactory = _ => 15 };
        var seed = new Option<long>("--seed") { Description = "Seed of the student's weights and the recorded sessions.", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--out") { Description = "Run folder (default <teacher>-distilled-<hidden>)." };
        var cmd = new Command("distill", "Conventional output distillation, RADD's baseline: train a small tanh RNN by gradient descent to match the teacher's " +
                                         "action probabilities on the teacher's recorded sessions; validated by playing the task. 'ibl analyze' reports RADD beside it.")
        {
            teacher, hidden, epochs, seed, output,
        };
        cmd.SetAction(async (r, token) =>
        {
            var from = r.GetValue(teacher)!;
            var config = new IblDistillConfig { Teacher = Path.GetFullPath(from), Hidden = r.GetValue(hidden), Epochs = r.GetValue(epochs), Seed = r.GetValue(seed) };
            try { config.Check(); }
            catch (ValidationException e) { return Cli.Refuse(e.Violation, cmd.Options); }
            if (Cli.OpenRun(from, "teacher") is not { } teacherRun) return ExitCode.UsageError;
            try { IblAnalysisOutput.Load(teacherRun); }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException) { return Cli.Fail($"teacher: {e.Message}"); }
            var path = r.GetValue(output) ?? $"{from.TrimEnd('/')}-distilled-{config.Hidden}";
            if (File.Exists(Path.Combine(path, Trainer.LastCheckpoint)))
                return Cli.Fail($"--out: {path} already holds a run; choose another --out");
            RunFolder folder;
            try { folder = RunFolder.Create(path); }
            catch (IOException e) { return Cli.Fail($"--out: {e.Message}"); }
            var (code, _) = await TrainCommands.Execute(folder, config, resume: false, tensorboard: false, checkpointEvery: 0, token);
            if (code == 0) Console.Error.WriteLine($"wrote {folder.Path}");
            return code;
        });
        return cmd;
    }

    private static Command Analyze()
    {
        var run = new Argument<string>("run") { Description = "A run folder written by 'ibl train'." };
        var sessions = new Option<int>("--sessions") { Description = "Behaviour: sessions per agent (network, Bayesian agents, distilled model).", DefaultValueFactory = _ => IblAnalysisOptions.Default.Sessions };
        var trials = new Option<int>("--trials-per-session") { Description = "Behaviour: trials per session.", DefaultValueFactory = _ => IblAnalysisOptions.Default.TrialsPerSession };
        var recorded = new Option<int>("--recorded-trials") { Description = "Trials whose every hidden state feeds PCA, readouts, flow fields, RADD and pools.", DefaultValueFactory = _ => IblAnalysisOptions.Default.RecordedTrials };
        var seed = new Option<long>("--seed") { Description = "Seed of the sessions played.", DefaultValueFactory = _ => 1 };
        var checkpoint = new Option<string>("--checkpoint") { Description = "Which network: best (validation accuracy), last, or an epoch number kept by --checkpoint-every.", DefaultValueFactory = _ => "best" };
        var cmd = new Command("analyze", "Open up a trained IBL network (SPEC B4): behaviour beside the Bayesian agents, PCA and readouts, " +
                                         "velocities, flow fields and fixed points, RADD in closed form, unit pools. Writes analysis.json, analysis.md and PNGs into the run folder.")
        {
            run, sessions, trials, recorded, seed, checkpoint,
        };
        cmd.SetAction(r =>
        {
            var options = IblAnalysisOptions.Default with
            {
                Sessions = r.GetValue(sessions), TrialsPerSession = r.GetValue(trials), RecordedTrials = r.GetValue(recorded),
            };
            if (options.Problem() is { } problem) return Cli.Refuse(problem, cmd.Options);
            if (Trainer.CheckpointProblem(r.GetValue(checkpoint)) is { } which) return Cli.Refuse(which, cmd.Options);
            if (Cli.OpenRun(r.GetValue(run)!) is not { } folder) return ExitCode.UsageError;
            using var held = TrainCommands.Lock(folder, "run");
            if (held is null) return ExitCode.UsageError;
            var clock = Stopwatch.StartNew();
            return Cli.Reading(() =>
            {
                var report = IblAnalysisOutput.Run(folder, options, r.GetValue(seed), r.GetValue(checkpoint)!, stage => Console.Error.WriteLine($"  {clock.Elapsed.TotalSeconds,6:F1} s  {stage}"));
                Console.Out.Write(File.ReadAllText(folder.PathOf("analysis.md")));
                Console.Error.WriteLine($"analysed in {clock.Elapsed.TotalSeconds:F1} s; wrote {folder.Path}/analysis.md, analysis.json and PNGs (accuracy {report.AccuracyTimeoutsWrong:F3})");
            });
        });
        return cmd;
    }

    private static Command Train()
    {
        var preset = new Option<string>("--preset")
        {
            Description = "quick: about a minute on a laptop CPU (64 sessions in lockstep, back-propagation through 50 steps, Adam 1e-3, 40 × 50 steps, the reference code's loss); " +
                          "paper: the reference code's recipe (SGD lr 1e-3 momentum 0.1, one session of 4 blocks a step, 101,000 steps; hours).",
            DefaultValueFactory = _ => "quick",
        };
        preset.AcceptOnlyFromAmong([.. IblTrainingConfig.Presets]);
        var hidden = new Option<int?>("--hidden") { Description = "Hidden units (paper 50)." };
        var loss = new Option<string?>("--loss") { Description = "paper: cross-entropy −log p(correct) (the paper's §3.1); reference: −p(correct) (the reference code's NLLLoss on probabilities). Default: the preset's." };
        loss.AcceptOnlyFromAmong("paper", "reference");
        var task = new Option<string>("--task") { Description = "Task variant: paper (§2.1) or reference (the reference code's).", DefaultValueFactory = _ => "paper" };
        task.AcceptOnlyFromAmong("paper", "reference");
        var epochs = new Option<int?>("--epochs") { Description = "Epochs (overrides the preset)." };
        var steps = new Option<int?>("--steps-per-epoch") { Description = "Optimiser steps per epoch (overrides the preset)." };
        var lr = new Option<double?>("--lr") { Description = "Learning rate (overrides the preset)." };
        var seed = new Option<long>("--seed") { Description = "Seed of the weights and every session.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        device.AcceptOnlyFromAmong("cpu", "cuda");
        var output = new Option<string?>("--out") { Description = "Run folder (default runs/ibl-<preset>-<loss>-s<seed>)." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the folder's last checkpoint (same configuration)." };
        var tensorboard = new Option<bool>("--tensorboard") { Description = "Also write TensorBoard scalars to <out>/tensorboard." };
        var every = new Option<int>("--checkpoint-every") { Description = "Also keep checkpoints/epoch-NNNN.ckpt every N epochs (0: only best and last).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("train", "Train the tanh RNN on the IBL task (closed loop: it acts when an action's probability passes 0.9). Then 'ibl analyze' the run folder.")
        {
            preset, hidden, loss, task, epochs, steps, lr, seed, device, output, resume, tensorboard, every,
        };
        cmd.SetAction(async (r, token) =>
        {
            IblTrainingConfig config;
            try
            {
                var c = IblTrainingConfig.Preset(r.GetValue(preset)!);
                config = c with
                {
                    Hidden = r.GetValue(hidden) ?? c.Hidden,
                    Loss = r.GetValue(loss) is string l ? (l == "paper" ? IblLoss.Paper : IblLoss.Reference) : c.Loss,
                    TaskVariant = r.GetValue(task)!, Epochs = r.GetValue(epochs) ?? c.Epochs, StepsPerEpoch = r.GetValue(steps) ?? c.StepsPerEpoch,
                    LearningRate = r.GetValue(lr) ?? c.LearningRate, Seed = r.GetValue(seed), Device = r.GetValue(device)!,
                };
                config.Check();
            }
            catch (ValidationException e) { return Cli.Refuse(e.Violation, cmd.Options, new Dictionary<string, Option> { ["LearningRate"] = lr, ["TaskVariant"] = task }); }
            if (Devices.Problem(config.Device) is { } unavailable) return Cli.Refuse(unavailable, cmd.Options);
            if (r.GetValue(every) < 0) return Cli.Refuse(every, r.GetValue(every), "must be ≥ 0");
            var path = r.GetValue(output) ?? Path.Combine("runs", $"ibl-{config.PresetName}-{config.Loss.ToString().ToLowerInvariant()}-s{config.Seed}");
            if (!r.GetValue(resume) && File.Exists(Path.Combine(path, Trainer.LastCheckpoint))) return Cli.Fail(TrainingSession.AlreadyARun(path));
            if (r.GetValue(resume) && !File.Exists(Path.Combine(path, Trainer.LastCheckpoint))) return Cli.Fail(TrainingSession.NothingToResume(path));
            RunFolder folder;
            try { folder = RunFolder.Create(path); }
            catch (IOException e) { return Cli.Fail($"--out: {e.Message}"); }
            var (code, _) = await TrainCommands.Execute(folder, config, r.GetValue(resume), r.GetValue(tensorboard), r.GetValue(every), token);
            if (code == 0) Console.Error.WriteLine($"wrote {folder.Path}; next: hmmrnn ibl analyze {path}");
            return code;
        });
        return cmd;
    }

    private static Command Bayes()
    {
        var agents = new Option<string[]>("--agent")
        {
            Description = "Agents to run (one or more): markov (paper's actor), semi-markov (exact block prior), " +
                          "forced (exact, acts on the last step), reference (the reference code's actor, = " +
                          "markov+per-step-contrast+block-prior+timeout-guess). Append modifiers with '+' to switch on one " +
                          "of the reference code's departures from the paper: per-step-contrast (contrast marginalised " +
                          "afresh each step), block-prior (block prediction used as the stimulus prior, skipping p_s), " +
                          "timeout-guess (a time-out taken to reveal the side opposite to the agent's leaning).",
            DefaultValueFactory = _ => ["markov", "semi-markov", "forced"],
            AllowMultipleArgumentsPerToken = true,
        };
        agents.Validators.Add(result =>
        {
            foreach (var name in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (BayesianAgent.Problem(name) is { } problem) result.AddError($"--agent: {problem.Rule} ('{problem.Value}' in '{name}')");
            }
        });
        var task = new Option<string>("--task") { Description = "Task variant: paper (§2.1) or reference (the reference code's).", DefaultValueFactory = _ => "paper" };
        task.AcceptOnlyFromAmong("paper", "reference");
        var sessions = new Option<int>("--sessions") { Description = "Independent sessions per agent.", DefaultValueFactory = _ => 100 };
        var trials = new Option<int>("--trials-per-session") { Description = "Trials in each session.", DefaultValueFactory = _ => 1000 };
        var seed = new Option<long>("--seed") { Description = "Seed: same seed, same trials.", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Output folder (created).", DefaultValueFactory = _ => "runs/ibl-bayes" };
        var cmd = new Command("bayes", "Run Bayesian actors; write trials (CSV), a summary (JSON, Markdown) and behaviour curves (PNG).")
        {
            agents, task, sessions, trials, seed, output,
        };
        cmd.SetAction(r =>
        {
            var n = r.GetValue(sessions);
            var m = r.GetValue(trials);
            if (n < 1) return Cli.Refuse(sessions, n, "must be ≥ 1");
            if (m < 1) return Cli.Refuse(trials, m, "must be ≥ 1");
            // Every trial's record is kept (trials-*.csv, the curves): the same bound as an analysis's behaviour.
            if ((Violation.AtMost("Sessions", n, IblAnalysisOptions.MaxTrials) ?? Violation.AtMost("TrialsPerSession", m, IblAnalysisOptions.MaxTrials / n)) is { } tooMany)
                return Cli.Refuse(tooMany, cmd.Options);
            var config = r.GetValue(task) == "reference" ? IblTaskConfig.ReferenceCode : IblTaskConfig.Paper;
            RunFolder folder;
            try { folder = RunFolder.Create(r.GetValue(output)!); }
            catch (IOException e) { return Cli.Fail($"--out: {e.Message}"); }
            Run(folder, config, r.GetValue(task)!, r.GetValue(agents)!.Distinct().ToArray(), n, m, r.GetValue(seed));
            return 0;
        });
        return cmd;
    }


    internal static void Run(RunFolder folder, IblTaskConfig config, string taskName, string[] agentNames, int sessions, int trialsPerSession, long seed)
    {
        folder.WriteJson("config.json", new { task = taskName, config, agents = agentNames, sessions, trialsPerSession, seed });
        var results = new List<(string Name, IReadOnlyList<IblTrialRecord> Trials, double Seconds)>();
        foreach (var name in agentNames)
        {
            var sw = Stopwatch.StartNew();
            Console.Error.Write($"{name}: {sessions} × {trialsPerSession} trials … ");
            var records = IblSimulation.RunSessions(config, BayesianAgent.Named(name), sessions, trialsPerSession, Rng.FromSeed(seed));
            Console.Error.WriteLine($"{sw.Elapsed.TotalSeconds:F1} s");
            results.Add((name, records, sw.Elapsed.TotalSeconds));
            folder.WriteAtomic($"trials-{name}.csv", s => WriteCsv(s, records));
        }

        var summary = results.Select((x, i) => IblBehaviour.WithPsychometricFits(IblBehaviour.Summarise(x.Name, x.Trials), Rng.FromSeed(seed).Substream(1000 + i))).ToArray();
        folder.WriteJson("summary.json", summary);
        var markdown = Markdown(summary, taskName, sessions * trialsPerSession, seed);
        folder.WriteText("summary.md", markdown);
        Plot(folder, results, summary);
        Console.Out.Write(markdown);
        Console.Error.WriteLine($"wrote {folder.Path}");
    }

    private static string Markdown(IReadOnlyList<AgentSummary> summary, string task, int trials, long seed)
    {
        static string P(double x) => double.IsNaN(x) ? "–" : x.ToString("F3", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.AppendLine($"Task: {task}; {trials:N0} trials per agent; seed {seed}. Accuracy with time-outs counted wrong (time-outs left out).");
        sb.AppendLine();
        var contrasts = summary[0].ByContrast.Select(c => c.Contrast).ToArray();
        sb.Append("| agent | ").Append(string.Join(" | ", contrasts.Select(c => $"μ = {c.ToString(CultureInfo.InvariantCulture)}")))
          .AppendLine(" | overall | time-outs | observer | mean steps to act |");
        sb.Append("|---|").Append(string.Concat(contrasts.Select(_ => "---|"))).AppendLine("---|---|---|---|");
        foreach (var a in summary)
        {
            sb.Append($"| {a.Agent} | ");
            sb.Append(string.Join(" | ", a.ByContrast.Select(c => $"{P(c.AccuracyTimeoutsWrong)} ({P(c.AccuracyTimeoutsExcluded)})")));
            sb.AppendLine($" | {P(a.AccuracyTimeoutsWrong)} ({P(a.AccuracyTimeoutsExcluded)}) | {P(a.TimeoutRate)} | {P(a.ObserverAccuracy)} | {a.MeanObservationSteps.ToString("F2", CultureInfo.InvariantCulture)} |");
        }
        sb.AppendLine();
        sb.AppendLine("Zero contrast, concordant / discordant (time-outs wrong): " +
            string.Join("; ", summary.Select(a => $"{a.Agent} {P(a.ByContrast[0].ConcordantAccuracy)} / {P(a.ByContrast[0].DiscordantAccuracy)}")));
        sb.AppendLine();
        sb.Append(IblFigures.FitTable(summary));
        return sb.ToString();
    }

    private static void Plot(RunFolder folder, IReadOnlyList<(string Name, IReadOnlyList<IblTrialRecord> Trials, double Seconds)> results,
        IReadOnlyList<AgentSummary> summary)
    {
        IblFigures.Behaviour(folder, summary);
        Charts.Lines(folder, "block-change.png", "Accuracy after a block change (time-outs count as wrong)", "trials since the change", "fraction correct",
            results.SelectMany((r, group) =>
            {
                var curve = IblBehaviour.AfterBlockChange(r.Trials, 40);
                return new[]
                {
                    new Line($"{r.Name}, all contrasts", curve.Select(p => ((double)p.TrialsSinceChange, p.All.Value(TimeoutPolicy.CountAsWrong))).ToArray(), Group: group),
                    new Line($"{r.Name}, zero contrast", curve.Select(p => ((double)p.TrialsSinceChange, p.ZeroContrast.Value(TimeoutPolicy.CountAsWrong))).ToArray(), Dashed: true, Group: group),
                };
            }), 0, 1);
    }

    private static void WriteCsv(Stream stream, IReadOnlyList<IblTrialRecord> trials)
    {
        using var w = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
        w.WriteLine("trial,block,trial_in_block,block_side,stimulus_side,contrast,concordant,action,observation_steps,correct,block_prior_right,posterior_right,observer_posterior_right");
        foreach (var t in trials)
        {
            var i = t.Trial;
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{i.Index},{i.Block},{i.TrialInBlock},{(int)i.BlockSide},{(int)i.StimulusSide},{i.Contrast},{(i.Concordant ? 1 : 0)},{(t.Action is Side a ? ((int)a).ToString(CultureInfo.InvariantCulture) : "")},{t.ObservationSteps},{(t.Correct ? 1 : 0)},{t.BlockPriorRight:R},{t.PosteriorRight:R},{t.ObserverPosteriorRight:R}"));
        }
    }
}
