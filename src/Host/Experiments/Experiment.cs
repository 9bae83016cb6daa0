using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using HmmRnn.Analysis;
using HmmRnn.Core;
using HmmRnn.Host.Output;
using HmmRnn.Host.Tasks.Hmm;
using HmmRnn.Host.Tasks.Ibl;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Experiments;

/// <summary>An experiment file that cannot be used; the message names the JSON path and the value ("model.hidden: must be > 0, got -3").</summary>
public sealed class ExperimentException(string message) : Exception(message);

/// <summary>What the pipeline does after training, per point.</summary>
/// <param name="Evaluate">HMM: the emulation metrics (<c>evaluate</c>).</param>
/// <param name="Analyze">HMM: the reverse engineering (<c>analyze</c>); IBL: the network analysis (<c>ibl analyze</c>).</param>
public sealed record AnalysisPlan(bool Evaluate, bool Analyze);

/// <summary>One point of an experiment: a fully resolved training configuration, where it sits on the sweep grid, and its folder name.</summary>
/// <param name="Index">Its place in the expansion (what <c>--shard</c> and Slurm array tasks split on).</param>
/// <param name="Id">Its folder name: the grid coordinates and the seed ("hidden-50_input-10_s0").</param>
/// <param name="Coordinates">Sweep path → value (e.g. model.hidden → 50), and "seed".</param>
/// <param name="Config">The training run.</param>
public sealed record ExperimentPoint(int Index, string Id, IReadOnlyDictionary<string, string> Coordinates, ITaskConfig Config);

/// <summary>
/// An experiment file, validated and resolved: task, preset and overrides, seeds, analyses and an optional sweep grid
/// (<c>experiments/schema.json</c> publishes the format). Unknown keys are errors; every error names its JSON path.
/// </summary>
public sealed record Experiment(
    string Name, string Description, string Task, string Preset, IReadOnlyList<long> Seeds, AnalysisPlan Analyses,
    IReadOnlyList<(string Path, IReadOnlyList<JsonNode> Values)> Sweep, IReadOnlyList<ExperimentPoint> Points,
    int EvaluationSequences, long AnalysisSeed, JsonObject AnalysisOptions)
{
    private static readonly string[] TopLevel =
        ["$schema", "name", "description", "task", "hmm", "preset", "device", "model", "training", "seeds", "analyses", "evaluation", "analysis", "sweep"];
    private static readonly string[] HmmModelKeys = ["hidden", "input", "recurrentIdentity"];
    private static readonly string[] IblModelKeys = ["hidden"];
    // Fields of a task's configuration that the file sets elsewhere (or not at all).
    private static readonly string[] Reserved = ["hmm", "custom", "presetName", "seed", "device", "task", "effectiveGradClip"];

    /// <summary>The analyses each task knows.</summary>
    public static IReadOnlyDictionary<string, string[]> KnownAnalyses { get; } = new Dictionary<string, string[]>
    {
        ["hmm"] = ["evaluate", "reverse-engineer"],
        ["ibl"] = ["analyze"],
    };

    /// <summary>Reads and validates an experiment file.</summary>
    /// <exception cref="ExperimentException">a missing or malformed file, an unknown key, a bad value; the message names the file and the JSON path.</exception>
    public static Experiment Load(string path)
    {
        if (!File.Exists(path)) throw new ExperimentException($"{path}: no such experiment file");
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new ExperimentException($"{path}: not valid JSON: {e.Message.Split('\n')[0]}"); }
        try { return Parse(root as JsonObject ?? throw new ExperimentException("(top level): must be an object")); }
        catch (ExperimentException e) { throw new ExperimentException($"{path}: {e.Message}"); }
    }

    /// <summary>Validates and resolves an experiment given as JSON.</summary>
    /// <exception cref="ExperimentException">the first problem, naming its JSON path.</exception>
    public static Experiment Parse(JsonObject root)
    {
        ArgumentNullException.ThrowIfNull(root);
        Known(root, "", TopLevel);
        var name = String(root, "name", required: true)!;
        if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            Fail("name", "must be letters, digits, '-', '_' or '.' (it names the output folder)", Show(root["name"]));
        var description = String(root, "description") ?? "";
        var task = String(root, "task", required: true)!;
        if (!KnownAnalyses.ContainsKey(task)) Fail("task", $"must be one of {string.Join(", ", KnownAnalyses.Keys)}", Show(root["task"]));
        var preset = String(root, "preset") ?? "quick";
        var presets = task == "hmm" ? HmmTrainingConfig.Presets : IblTrainingConfig.Presets;
        if (!presets.Contains(preset)) Fail("preset", $"must be one of {string.Join(", ", presets)}", Show(root["preset"]));
        var device = String(root, "device") ?? "cpu";
        if (device is not ("cpu" or "cuda")) Fail("device", "must be cpu or cuda", Show(root["device"]));

        var seeds = ParseSeeds(root);
        var analyses = ParseAnalyses(root, task);

        // The preset, as JSON, is what overrides and sweep values are written into: every key a file may set is a key of it.
        var baseConfig = task == "hmm" ? HmmBase(root, preset) : Serialize(IblTrainingConfig.Preset(preset));
        if (task == "ibl" && root.ContainsKey("hmm")) Fail("hmm", "only for task hmm", Show(root["hmm"]));
        var sections = Sections(task, baseConfig);
        var overrides = new List<(string Path, JsonNode? Value)>();
        foreach (var (section, keys) in sections)
        {
            if (root[section] is null) continue;
            if (root[section] is not JsonObject obj) { Fail(section, "must be an object", Show(root[section])); continue; }
            Known(obj, section, keys);
            overrides.AddRange(obj.Select(p => ($"{section}.{p.Key}", p.Value)));
        }

        var sweep = ParseSweep(root, sections);
        var points = new List<ExperimentPoint>();
        foreach (var combination in Grid(sweep))
            foreach (var seed in seeds)
            {
                var json = (JsonObject)baseConfig.DeepClone();
                json["device"] = device;
                json["seed"] = seed;
                foreach (var (p, v) in overrides.Concat(combination.Select(c => (c.Path, (JsonNode?)c.Value))))
                    json[p[(p.IndexOf('.') + 1)..]] = v?.DeepClone();
                var config = Resolve(task, json, sections);
                var coordinates = combination.ToDictionary(c => c.Path, c => Show(c.Value));
                coordinates["seed"] = seed.ToString(CultureInfo.InvariantCulture);
                var id = string.Join("_", combination.Select(c => $"{c.Path[(c.Path.IndexOf('.') + 1)..]}-{Slug(Show(c.Value))}").Append($"s{seed}"));
                points.Add(new ExperimentPoint(points.Count, id, coordinates, config));
            }

        var (sequences, analysisSeed, analysisOptions) = Options(root, task);
        return new Experiment(name, description, task, preset, seeds, analyses, sweep, points, sequences, analysisSeed, analysisOptions);
    }

    /// <summary>The experiment's resolved form (what <c>run</c> writes as experiment.json): every point's full configuration.</summary>
    public JsonObject ToJson()
    {
        var points = new JsonArray();
        foreach (var p in Points)
            points.Add(new JsonObject
            {
                ["id"] = p.Id,
                ["coordinates"] = new JsonObject(p.Coordinates.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value))),
                ["config"] = JsonSerializer.SerializeToNode(p.Config, RunFolder.Json),
            });
        return new JsonObject
        {
            ["name"] = Name, ["description"] = Description, ["task"] = Task, ["preset"] = Preset,
            ["analyses"] = new JsonArray([.. (Analyses.Evaluate ? new[] { "evaluate" } : []).Concat(Analyses.Analyze ? [Task == "hmm" ? "reverse-engineer" : "analyze"] : []).Select(a => (JsonNode)a)]),
            ["evaluation"] = new JsonObject { ["sequences"] = EvaluationSequences }, ["analysisSeed"] = AnalysisSeed,
            ["analysis"] = AnalysisOptions.DeepClone(), ["points"] = points,
        };
    }

    /// <summary>
    /// The keys an experiment file may set for <paramref name="task"/>, by section: "model" and "training" (the task's
    /// configuration fields, which overrides and sweeps write) and "analysis" (the analysis options, and its seed).
    /// experiments/schema.json publishes the same lists (a test holds them equal).
    /// </summary>
    public static IReadOnlyDictionary<string, string[]> Settings(string task)
    {
        if (!KnownAnalyses.ContainsKey(task)) throw new ArgumentException($"task '{task}': must be one of {string.Join(", ", KnownAnalyses.Keys)}", nameof(task));
        var sections = Sections(task, task == "hmm" ? Serialize(HmmTrainingConfig.Preset("quick", "linear2")) : Serialize(IblTrainingConfig.Preset("quick")));
        var analysis = task == "hmm" ? JsonSerializer.SerializeToNode(HmmAnalysisOptions.Default, RunFolder.Json)! : JsonSerializer.SerializeToNode(IblAnalysisOptions.Default, RunFolder.Json)!;
        return new Dictionary<string, string[]>(sections) { ["analysis"] = [.. analysis.AsObject().Select(p => p.Key).Append("seed")] };
    }

    private static Dictionary<string, string[]> Sections(string task, JsonObject config)
    {
        var model = task == "hmm" ? HmmModelKeys : IblModelKeys;
        return new Dictionary<string, string[]>
        {
            ["model"] = model,
            ["training"] = [.. config.Select(p => p.Key).Where(k => !Reserved.Contains(k) && !model.Contains(k))],
        };
    }

    private static JsonObject HmmBase(JsonObject root, string preset)
    {
        var hmm = root["hmm"] ?? throw Error("hmm", "required for task hmm: a catalogue name (" + string.Join(", ", HmmCatalogue.Names) + ") or {initial, transition, emission, sequenceLength}", "nothing");
        if (hmm is JsonValue v && v.TryGetValue<string>(out var catalogueName))
        {
            if (!HmmCatalogue.Names.Contains(catalogueName)) Fail("hmm", $"not a catalogue model; known: {string.Join(", ", HmmCatalogue.Names)}", Show(hmm));
            return Serialize(HmmTrainingConfig.Preset(preset, catalogueName));
        }
        if (hmm is not JsonObject custom) throw Error("hmm", "must be a catalogue name or an object with initial, transition, emission, sequenceLength", Show(hmm));
        Known(custom, "hmm", ["name", "initial", "transition", "emission", "sequenceLength", "family"]);
        foreach (var key in new[] { "initial", "transition", "emission", "sequenceLength" })
            if (custom[key] is null) Fail($"hmm.{key}", "required", "nothing");
        var customName = String(custom, "name", prefix: "hmm.") ?? "custom";
        CustomHmm matrices;
        try
        {
            var json = (JsonObject)custom.DeepClone();
            json.Remove("name");
            matrices = json.Deserialize<CustomHmm>(RunFolder.Json) ?? throw Error("hmm", "empty", "null");
        }
        catch (JsonException e) { throw Error($"hmm{JsonPath(e)}", "wrong type (numbers, arrays of numbers and arrays of rows; family: linear-chain, fully-connected or cyclic)", Show(custom)); }
        try { matrices.ToEntry(customName); }
        catch (ArgumentException e) { throw Error($"hmm.{e.ParamName ?? ""}".TrimEnd('.'), e.Message.Split(" (Parameter")[0], "(see the matrices)"); }
        return Serialize(HmmTrainingConfig.Preset(preset, customName, matrices));
    }

    private static JsonObject Serialize<T>(T config) where T : ITaskConfig => (JsonObject)JsonSerializer.SerializeToNode(config, RunFolder.Json)!;

    private static ITaskConfig Resolve(string task, JsonObject json, Dictionary<string, string[]> sections)
    {
        string PathOf(string key) => sections.FirstOrDefault(s => s.Value.Contains(key)).Key is { } section ? $"{section}.{key}" : key;
        ITaskConfig config;
        try
        {
            config = task == "hmm" ? json.Deserialize<HmmTrainingConfig>(RunFolder.Json)! : json.Deserialize<IblTrainingConfig>(RunFolder.Json)!;
        }
        catch (JsonException e)
        {
            var key = JsonPath(e).TrimStart('.').Split('.', '[')[0];
            throw Error(PathOf(key), Expected(key, task), Show(json[key]));
        }
        try { config.Check(); }
        catch (ArgumentException e)
        {
            var field = e.ParamName ?? "";
            var key = field.Length > 0 ? char.ToLowerInvariant(field[0]) + field[1..] : field;
            var rule = e.Message.Split(" (Parameter")[0];
            rule = rule.Contains(": ") ? rule[(rule.IndexOf(": ", StringComparison.Ordinal) + 2)..] : rule;
            throw Error(PathOf(key), rule, Show(json[key]));
        }
        return config;
    }

    private static string Expected(string key, string task)
    {
        var type = (task == "hmm" ? typeof(HmmTrainingConfig) : typeof(IblTrainingConfig)).GetProperties()
            .FirstOrDefault(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase))?.PropertyType;
        type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(int) || type == typeof(long) ? "must be an integer"
            : type == typeof(double) ? "must be a number"
            : type == typeof(string) ? "must be a string"
            : type is { IsEnum: true } ? $"must be one of {string.Join(", ", Enum.GetNames(type).Select(n => JsonNamingPolicy.KebabCaseLower.ConvertName(n)))}"
            : "has the wrong type";
    }

    private static List<long> ParseSeeds(JsonObject root)
    {
        var node = root["seeds"];
        if (node is null) return [0];
        if (node is not JsonArray array || array.Count == 0) throw Error("seeds", "must be a non-empty array of integers", Show(node));
        var seeds = new List<long>();
        for (int i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonValue v || !v.TryGetValue<long>(out var s) && !(v.TryGetValue<double>(out var d) && d == Math.Floor(d) && (s = (long)d) == d))
                throw Error($"seeds[{i}]", "must be an integer", Show(array[i]));
            if (s < 0) Fail($"seeds[{i}]", "must be ≥ 0", Show(array[i]));
            if (seeds.Contains(s)) Fail($"seeds[{i}]", "repeats an earlier seed", Show(array[i]));
            seeds.Add(s);
        }
        return seeds;
    }

    private static AnalysisPlan ParseAnalyses(JsonObject root, string task)
    {
        var known = KnownAnalyses[task];
        var node = root["analyses"];
        if (node is null) return new AnalysisPlan(task == "hmm", true);
        if (node is not JsonArray array) throw Error("analyses", $"must be an array of {string.Join(", ", known)}", Show(node));
        var names = new List<string>();
        for (int i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonValue v || !v.TryGetValue<string>(out var a) || !known.Contains(a))
                throw Error($"analyses[{i}]", $"must be one of {string.Join(", ", known)} (task {task})", Show(array[i]));
            names.Add(a);
        }
        if (task == "hmm" && names.Contains("reverse-engineer") && !names.Contains("evaluate")) names.Add("evaluate");
        return new AnalysisPlan(names.Contains("evaluate"), names.Contains(task == "hmm" ? "reverse-engineer" : "analyze"));
    }

    private static (int Sequences, long Seed, JsonObject Options) Options(JsonObject root, string task)
    {
        int sequences = 10_000;
        if (root["evaluation"] is { } e)
        {
            if (task != "hmm") Fail("evaluation", "only for task hmm", Show(e));
            if (e is not JsonObject eo) throw Error("evaluation", "must be an object", Show(e));
            Known(eo, "evaluation", ["sequences"]);
            if (eo["sequences"] is { } s && (!(s is JsonValue sv && sv.TryGetValue<int>(out sequences)) || sequences < 100))
                Fail("evaluation.sequences", "must be an integer ≥ 100", Show(s));
        }
        var defaults = task == "hmm" ? (JsonObject)JsonSerializer.SerializeToNode(HmmAnalysisOptions.Default, RunFolder.Json)!
            : (JsonObject)JsonSerializer.SerializeToNode(IblAnalysisOptions.Default, RunFolder.Json)!;
        long seed = 1;
        if (root["analysis"] is { } a)
        {
            if (a is not JsonObject ao) throw Error("analysis", "must be an object", Show(a));
            Known(ao, "analysis", [.. defaults.Select(p => p.Key).Append("seed")]);
            foreach (var (key, value) in ao)
            {
                if (key == "seed")
                {
                    if (!(value is JsonValue sv && sv.TryGetValue<long>(out seed))) Fail("analysis.seed", "must be an integer", Show(value));
                    continue;
                }
                defaults[key] = value?.DeepClone();
            }
            try
            {
                if (task == "hmm") defaults.Deserialize<HmmAnalysisOptions>(RunFolder.Json)!.Validate();
                else defaults.Deserialize<IblAnalysisOptions>(RunFolder.Json)!.Validate();
            }
            catch (JsonException x) { throw Error($"analysis{JsonPath(x)}", "has the wrong type", Show(ao)); }
            catch (ArgumentException x)
            {
                var key = x.ParamName is { Length: > 0 } f ? char.ToLowerInvariant(f[0]) + f[1..] : "";
                throw Error($"analysis.{key}", x.Message.Split(" (Parameter")[0].Split(": ", 2)[^1], Show(defaults[key]));
            }
        }
        return (sequences, seed, defaults);
    }

    /// <summary>The analysis options of an HMM experiment.</summary>
    public HmmAnalysisOptions HmmAnalysis => AnalysisOptions.Deserialize<HmmAnalysisOptions>(RunFolder.Json)!;

    /// <summary>The analysis options of an IBL experiment.</summary>
    public IblAnalysisOptions IblAnalysis => AnalysisOptions.Deserialize<IblAnalysisOptions>(RunFolder.Json)!;

    private static List<(string Path, IReadOnlyList<JsonNode> Values)> ParseSweep(JsonObject root, Dictionary<string, string[]> sections)
    {
        var axes = new List<(string, IReadOnlyList<JsonNode>)>();
        if (root["sweep"] is not { } node) return axes;
        if (node is not JsonObject obj) throw Error("sweep", "must be an object of \"section.key\": [values]", Show(node));
        foreach (var (path, values) in obj)
        {
            var dot = path.IndexOf('.');
            var section = dot > 0 ? path[..dot] : "";
            var key = dot > 0 ? path[(dot + 1)..] : path;
            if (!sections.TryGetValue(section, out var keys) || !keys.Contains(key))
                Fail($"sweep.{path}", $"not a sweepable setting; use model.<key> or training.<key> (model: {string.Join(", ", sections["model"])}); seeds go in \"seeds\"", "");
            if (values is not JsonArray array || array.Count == 0) throw Error($"sweep.{path}", "must be a non-empty array of values", Show(values));
            if (array.Any(v => v is null)) Fail($"sweep.{path}", "must not contain null", Show(values));
            var shown = array.Select(v => Show(v)).ToList();
            if (shown.Distinct().Count() != shown.Count) Fail($"sweep.{path}", "repeats a value", Show(values));
            if (root[section] is JsonObject o && o.ContainsKey(key)) Fail($"sweep.{path}", $"also set in {section}.{key}; set it in one place", Show(values));
            axes.Add((path, array.Select(v => v!.DeepClone()).ToList()));
        }
        return axes;
    }

    /// <summary>Every combination of the axes' values, the last axis fastest (one empty combination without a sweep).</summary>
    private static IEnumerable<List<(string Path, JsonNode Value)>> Grid(IReadOnlyList<(string Path, IReadOnlyList<JsonNode> Values)> axes)
    {
        IEnumerable<List<(string, JsonNode)>> result = [[]];
        foreach (var (path, values) in axes)
            result = result.SelectMany(prefix => values.Select(v => new List<(string, JsonNode)>(prefix) { (path, v) })).ToList();
        return result;
    }

    private static void Known(JsonObject obj, string where, IReadOnlyCollection<string> keys)
    {
        foreach (var (key, _) in obj)
            if (!keys.Contains(key))
                Fail(where.Length == 0 ? key : $"{where}.{key}", $"unknown key; known: {string.Join(", ", keys)}", "");
    }

    private static string? String(JsonObject obj, string key, bool required = false, string prefix = "")
    {
        var node = obj[key];
        if (node is null) return required ? throw Error(prefix + key, "required", "nothing") : null;
        return node is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Error(prefix + key, "must be a string", Show(node));
    }

    private static string JsonPath(JsonException e) => e.Path is { Length: > 1 } p ? p[1..] : "";

    private static string Slug(string value) => new([.. value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_')]);

    /// <summary>A value as the error shows it (compact JSON).</summary>
    internal static string Show(JsonNode? node) => node is null ? "null" : node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node.ToJsonString();

    private static void Fail(string path, string rule, string got) => throw Error(path, rule, got);

    private static ExperimentException Error(string path, string rule, string got) =>
        new(got.Length == 0 ? $"{path}: {rule}" : $"{path}: {rule}, got {got}");
}
