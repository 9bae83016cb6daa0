using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using HmmRnn.Core;
using HmmRnn.Host.Output;
using HmmRnn.Host.Tasks;
using HmmRnn.Host.Training;

namespace HmmRnn.Host.Experiments;

/// <summary>
/// An experiment file that cannot be used, as data: the JSON path, the rule, the value refused, and the file. Its message
/// reads "file: model.hidden: must be > 0, got -3".
/// </summary>
public sealed class ExperimentException : Exception
{
    /// <summary>A refusal of the value at <paramref name="path"/>.</summary>
    /// <param name="path">The JSON path ("model.hidden"); empty for the file as a whole.</param>
    /// <param name="rule">The rule broken ("must be > 0").</param>
    /// <param name="got">The value as shown; empty or null when there is none to show.</param>
    /// <param name="file">The experiment file, when known.</param>
    public ExperimentException(string path, string rule, string? got = null, string? file = null)
        : base(Compose(path, rule, got, file)) => (JsonPath, Rule, Got, File) = (path, rule, got ?? "", file);

    /// <summary>The JSON path of the refused value.</summary>
    public string JsonPath { get; }
    /// <summary>The rule it breaks.</summary>
    public string Rule { get; }
    /// <summary>The value as shown ("" when none).</summary>
    public string Got { get; }
    /// <summary>The experiment file, or null.</summary>
    public string? File { get; }

    /// <summary>The same refusal, in <paramref name="file"/>.</summary>
    public ExperimentException In(string file) => new(JsonPath, Rule, Got, file);

    private static string Compose(string path, string rule, string? got, string? file) =>
        (file is null ? "" : file + ": ") + (path.Length == 0 ? "" : path + ": ") + rule + (string.IsNullOrEmpty(got) ? "" : $", got {got}");
}

/// <summary>One point of an experiment: a fully resolved training configuration, where it sits on the sweep grid, and its folder name.</summary>
/// <param name="Index">Its place in the expansion (what <c>--shard</c> and Slurm array tasks split on).</param>
/// <param name="Id">Its folder name: the grid coordinates and the seed ("hidden-50_input-10_s0").</param>
/// <param name="Coordinates">Sweep path → value (e.g. model.hidden → 50), and "seed".</param>
/// <param name="Config">The training run.</param>
public sealed record ExperimentPoint(int Index, string Id, IReadOnlyDictionary<string, string> Coordinates, ITaskConfig Config);

/// <summary>A stage's resolved options: its section of the file with the defaults filled in, and its seed.</summary>
/// <param name="Options">The options' fields.</param>
/// <param name="Seed">The section's "seed" (1 when not set, or when the section takes none).</param>
public sealed record StageSettings(JsonObject Options, long Seed);

/// <summary>
/// An experiment file, validated and resolved: task, preset and overrides, seeds, the stages after training with their
/// options, and an optional sweep grid (<c>experiments/schema.json</c> publishes the format). Unknown keys are errors;
/// every error names its JSON path. What a task brings (presets, configuration, stages, options) comes from its
/// <see cref="ITaskDescriptor"/>.
/// </summary>
/// <param name="Name">Names the output folder.</param>
/// <param name="Description">Free text for the report.</param>
/// <param name="Task">The task's name.</param>
/// <param name="Preset">The preset the points start from.</param>
/// <param name="Seeds">The seeds, each a point per grid combination.</param>
/// <param name="Stages">The stages after training that run, in the task's order.</param>
/// <param name="Sweep">The grid's axes: path and values.</param>
/// <param name="Points">Every point, first axis slowest, seeds fastest.</param>
/// <param name="Options">Each options section (by name) resolved.</param>
public sealed record Experiment(
    string Name, string Description, string Task, string Preset, IReadOnlyList<long> Seeds, IReadOnlyList<string> Stages,
    IReadOnlyList<(string Path, IReadOnlyList<JsonNode> Values)> Sweep, IReadOnlyList<ExperimentPoint> Points,
    IReadOnlyDictionary<string, StageSettings> Options)
{
    private static readonly string[] Common = ["$schema", "name", "description", "task", "preset", "device", "model", "training", "seeds", "analyses", "sweep", "include", "tensorboard"];

    /// <summary>Whether each point's training also writes TensorBoard scalars into its folder's tensorboard/ (the file's <c>"tensorboard"</c>; default false).</summary>
    public bool TensorBoard { get; init; }
    // Fields of every task's configuration that the file sets elsewhere (or not at all).
    private static readonly string[] Reserved = ["presetName", "seed", "device", "task"];

    /// <summary>The task's descriptor.</summary>
    public ITaskDescriptor Descriptor => TaskRegistry.Find(Task) ?? throw new InvalidOperationException($"task '{Task}' is not registered");

    /// <summary>The options and seed of a stage (its section's).</summary>
    public StageSettings SettingsOf(ITaskStage stage) => Options[(stage ?? throw new ArgumentNullException(nameof(stage))).Options.Section];

    /// <summary>Reads and validates an experiment file.</summary>
    /// <exception cref="ExperimentException">a missing or malformed file, an unknown key, a bad value; the message names the file and the JSON path.</exception>
    public static Experiment Load(string path)
    {
        if (!System.IO.File.Exists(path)) throw new ExperimentException("", "no such experiment file", file: path);
        return FromText(System.IO.File.ReadAllText(path), path);
    }

    /// <summary>Validates and resolves an experiment given as JSON text; <paramref name="source"/> names it in errors (a path, or a shipped experiment's name).</summary>
    /// <exception cref="ExperimentException">the first problem, naming the source and the JSON path.</exception>
    public static Experiment FromText(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? root;
        try { root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new ExperimentException("", $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})", file: source); }
        try { return Parse(root as JsonObject ?? throw new ExperimentException("(top level)", "must be an object")); }
        catch (ExperimentException e) { throw e.In(source); }
    }

    /// <summary>Validates and resolves an experiment given as JSON.</summary>
    /// <exception cref="ExperimentException">the first problem, naming its JSON path.</exception>
    public static Experiment Parse(JsonObject root)
    {
        ArgumentNullException.ThrowIfNull(root);
        // Every task's own top-level keys are known; those of another task are refused by name below.
        var taskKeys = TaskRegistry.All.SelectMany(d => d.ExperimentKeys.Concat(d.Stages.Select(s => s.Options.Section))).Distinct().ToArray();
        ExperimentJson.Known(root, "", [.. Common, .. taskKeys]);
        var name = ExperimentJson.String(root, "name", required: true)!;
        if (name.Length == 0 || name is "." or ".." || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            ExperimentJson.Fail("name", "must be letters, digits, '-', '_' or '.', and not '.' or '..' (it names the output folder)", ExperimentJson.Show(root["name"]));
        var description = ExperimentJson.String(root, "description") ?? "";
        var task = ExperimentJson.String(root, "task", required: true)!;
        var descriptor = TaskRegistry.Find(task);
        if (descriptor is null) throw new ExperimentException("task", $"must be one of {string.Join(", ", TaskRegistry.Names)}", ExperimentJson.Show(root["task"]));
        var own = descriptor.ExperimentKeys.Concat(descriptor.Stages.Select(s => s.Options.Section)).ToHashSet();
        foreach (var key in taskKeys.Where(k => root.ContainsKey(k) && !own.Contains(k)))
        {
            var owners = TaskRegistry.All.Where(d => d.ExperimentKeys.Contains(key) || d.Stages.Any(s => s.Options.Section == key)).Select(d => d.Name);
            ExperimentJson.Fail(key, $"only for task {string.Join(", ", owners)}", ExperimentJson.Show(root[key]));
        }
        var preset = ExperimentJson.String(root, "preset") ?? descriptor.Presets[0];
        if (!descriptor.Presets.Contains(preset)) ExperimentJson.Fail("preset", $"must be one of {string.Join(", ", descriptor.Presets)}", ExperimentJson.Show(root["preset"]));
        var device = ExperimentJson.String(root, "device") ?? "cpu";
        if (device is not ("cpu" or "cuda")) ExperimentJson.Fail("device", "must be cpu or cuda", ExperimentJson.Show(root["device"]));

        var seeds = ParseSeeds(root);
        var stages = ParseStages(root, descriptor);

        // The preset, as JSON, is what overrides and sweep values are written into: every key a file may set is a key of it.
        // (Made only when a point needs it: a file whose sweep or include entries set "hmm" may leave it out at the top.)
        JsonObject? rootBase = null;
        JsonObject PresetOf(JsonObject experimentRoot, string where)
        {
            try { return Serialize(descriptor.Preset(preset, experimentRoot)); }
            catch (ExperimentException e) when (where.Length > 0) { throw new ExperimentException($"{where}.{e.JsonPath}", e.Rule, e.Got); }
        }
        var sections = Sections(descriptor);
        var overrides = new List<(string Path, JsonNode? Value)>();
        foreach (var (section, keys) in sections)
        {
            if (root[section] is null) continue;
            if (root[section] is not JsonObject obj) { ExperimentJson.Fail(section, "must be an object", ExperimentJson.Show(root[section])); continue; }
            ExperimentJson.Known(obj, section, keys);
            overrides.AddRange(obj.Select(p => ($"{section}.{p.Key}", p.Value)));
        }

        var sweep = ParseSweep(root, sections, descriptor);
        // The grid's combinations with the file's seeds, then each "include" entry with its own (or the file's) seeds.
        var groups = Grid(sweep).Select(c => (Where: "sweep", Combination: c, Seeds: (IReadOnlyList<long>)seeds)).ToList();
        groups.AddRange(ParseInclude(root, sections, descriptor, seeds));
        var points = new List<ExperimentPoint>();
        var ids = new HashSet<string>();
        foreach (var (where, combination, groupSeeds) in groups)
        {
            // A task's own top-level key on an axis ("hmm") chooses the preset, so the base configuration is the point's own.
            var topLevel = combination.Where(c => !c.Path.Contains('.')).ToList();
            JsonObject pointBase;
            if (topLevel.Count == 0) pointBase = rootBase ??= PresetOf(root, where == "sweep" ? "" : where);
            else
            {
                var pointRoot = (JsonObject)root.DeepClone();
                foreach (var (key, value) in topLevel) pointRoot[key] = value.DeepClone();
                pointBase = PresetOf(pointRoot, where);
            }
            foreach (var seed in groupSeeds)
            {
                var json = (JsonObject)pointBase.DeepClone();
                json["device"] = device;
                json["seed"] = seed;
                foreach (var (p, v) in overrides.Concat(combination.Where(c => c.Path.Contains('.')).Select(c => (c.Path, (JsonNode?)c.Value))))
                    json[p[(p.IndexOf('.') + 1)..]] = v?.DeepClone();
                var config = Resolve(descriptor, json, sections);
                var coordinates = combination.ToDictionary(c => c.Path, c => ExperimentJson.Show(c.Value));
                coordinates["seed"] = seed.ToString(CultureInfo.InvariantCulture);
                var id = string.Join("_", combination.Select(c => $"{c.Path[(c.Path.IndexOf('.') + 1)..]}-{Slug(ExperimentJson.Show(c.Value))}").Append($"s{seed}"));
                if (!ids.Add(id)) ExperimentJson.Fail(where, $"repeats the point {id} (a point of the sweep or of an earlier include entry)", "");
                points.Add(new ExperimentPoint(points.Count, id, coordinates, config));
            }
        }

        var tensorboard = root["tensorboard"] switch
        {
            null => false,
            JsonValue v when v.TryGetValue<bool>(out var b) => b,
            var other => throw new ExperimentException("tensorboard", "must be true or false", ExperimentJson.Show(other)),
        };
        return new Experiment(name, description, task, preset, seeds, stages, sweep, points, ParseOptions(root, descriptor)) { TensorBoard = tensorboard };
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
        var json = new JsonObject
        {
            ["name"] = Name, ["description"] = Description, ["task"] = Task, ["preset"] = Preset,
            ["analyses"] = new JsonArray([.. Stages.Select(a => (JsonNode)a)]),
        };
        foreach (var stage in Descriptor.Stages)
        {
            var (section, settings) = (stage.Options.Section, SettingsOf(stage));
            if (stage.Options.Seeded) json[section + "Seed"] = settings.Seed;
            json[section] = settings.Options.DeepClone();
        }
        json["points"] = points;
        return json;
    }

    /// <summary>
    /// The keys an experiment file may set for <paramref name="task"/>, by section: "model" and "training" (the task's
    /// configuration fields, which overrides and sweeps write) and each stage's options section (with its "seed" where it
    /// takes one). experiments/schema.json publishes the same lists (a test holds them equal).
    /// </summary>
    /// <exception cref="ArgumentException">no such task.</exception>
    public static IReadOnlyDictionary<string, string[]> Settings(string task)
    {
        var descriptor = TaskRegistry.Find(task) ?? throw new ArgumentException($"task '{task}': must be one of {string.Join(", ", TaskRegistry.Names)}", nameof(task));
        var sections = Sections(descriptor);
        foreach (var stage in descriptor.Stages)
            sections[stage.Options.Section] = [.. stage.Options.Defaults.Select(p => p.Key).Concat(stage.Options.Seeded ? ["seed"] : [])];
        return sections;
    }

    /// <summary>
    /// The settable keys: every JSON property of the task's configuration type, also those a preset leaves out of its JSON
    /// (null and omitted, e.g. the paper preset's pair terms), so that any preset can be given any of them.
    /// </summary>
    private static Dictionary<string, string[]> Sections(ITaskDescriptor task)
    {
        var model = task.ModelKeys;
        var keys = RunFolder.Json.GetTypeInfo(task.ConfigTypes[task.Name]).Properties.Where(p => p.Get is not null && p.Set is not null).Select(p => p.Name);
        return new Dictionary<string, string[]>
        {
            ["model"] = [.. model],
            ["training"] = [.. keys.Where(k => !Reserved.Contains(k) && !task.ReservedKeys.Contains(k) && !model.Contains(k))],
        };
    }

    private static JsonObject Serialize(ITaskConfig config) => (JsonObject)JsonSerializer.SerializeToNode(config, config.GetType(), RunFolder.Json)!;

    private static ITaskConfig Resolve(ITaskDescriptor task, JsonObject json, Dictionary<string, string[]> sections)
    {
        string PathOf(string key) => sections.FirstOrDefault(s => s.Value.Contains(key)).Key is { } section ? $"{section}.{key}" : key;
        var type = task.ConfigTypes[task.Name];
        ITaskConfig config;
        try
        {
            config = (ITaskConfig)json.Deserialize(type, RunFolder.Json)!;
        }
        catch (JsonException e)
        {
            var key = ExperimentJson.JsonPath(e).TrimStart('.').Split('.', '[')[0];
            throw new ExperimentException(PathOf(key), ExperimentJson.Expected(type, key), ExperimentJson.Show(json[key]));
        }
        try { config.Check(); }
        catch (ValidationException e)
        {
            var key = ExperimentJson.Key(e.Violation.Field);
            throw new ExperimentException(PathOf(key), e.Violation.Rule, ExperimentJson.Show(json[key]));
        }
        return config;
    }

    private static List<long> ParseSeeds(JsonObject root)
    {
        var node = root["seeds"];
        if (node is null) return [0];
        if (node is not JsonArray array || array.Count == 0) throw new ExperimentException("seeds", "must be a non-empty array of integers", ExperimentJson.Show(node));
        var seeds = new List<long>();
        for (int i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonValue v || !v.TryGetValue<long>(out var s) && !(v.TryGetValue<double>(out var d) && d == Math.Floor(d) && (s = (long)d) == d))
                throw new ExperimentException($"seeds[{i}]", "must be an integer", ExperimentJson.Show(array[i]));
            if (s < 0) ExperimentJson.Fail($"seeds[{i}]", "must be ≥ 0", ExperimentJson.Show(array[i]));
            if (seeds.Contains(s)) ExperimentJson.Fail($"seeds[{i}]", "repeats an earlier seed", ExperimentJson.Show(array[i]));
            seeds.Add(s);
        }
        return seeds;
    }

    /// <summary>The stages that run: those listed in "analyses" (with the stages they need), else the task's defaults; in the task's order.</summary>
    private static List<string> ParseStages(JsonObject root, ITaskDescriptor task)
    {
        var known = task.Stages.Select(s => s.Name).ToList();
        var node = root["analyses"];
        if (node is null) return [.. task.Stages.Where(s => s.ByDefault).Select(s => s.Name)];
        if (node is not JsonArray array) throw new ExperimentException("analyses", $"must be an array of {string.Join(", ", known)}", ExperimentJson.Show(node));
        var names = new HashSet<string>();
        for (int i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonValue v || !v.TryGetValue<string>(out var a) || !known.Contains(a))
                throw new ExperimentException($"analyses[{i}]", $"must be one of {string.Join(", ", known)} (task {task.Name})", ExperimentJson.Show(array[i]));
            names.Add(a);
            names.UnionWith(task.Stages.First(s => s.Name == a).Needs);
        }
        return [.. known.Where(names.Contains)];
    }

    /// <summary>Each stage's options section: the defaults, the file's values over them, checked as the task's typed options.</summary>
    private static Dictionary<string, StageSettings> ParseOptions(JsonObject root, ITaskDescriptor task)
    {
        var result = new Dictionary<string, StageSettings>();
        foreach (var stage in task.Stages)
        {
            var (section, defaults, seeded, check) = stage.Options;
            var options = (JsonObject)defaults.DeepClone();
            long seed = 1;
            if (root[section] is { } node)
            {
                if (node is not JsonObject given) throw new ExperimentException(section, "must be an object", ExperimentJson.Show(node));
                ExperimentJson.Known(given, section, [.. options.Select(p => p.Key).Concat(seeded ? ["seed"] : [])]);
                foreach (var (key, value) in given)
                {
                    if (key == "seed")
                    {
                        if (!(value is JsonValue sv && sv.TryGetValue<long>(out seed))) ExperimentJson.Fail($"{section}.seed", "must be an integer", ExperimentJson.Show(value));
                        continue;
                    }
                    options[key] = value?.DeepClone();
                }
                Violation? problem;
                try { problem = check(options); }
                catch (JsonException x)
                {
                    var key = ExperimentJson.JsonPath(x).TrimStart('.').Split('.', '[')[0];
                    throw new ExperimentException($"{section}{ExperimentJson.JsonPath(x)}", "has the wrong type", ExperimentJson.Show(given.ContainsKey(key) ? given[key] : given));
                }
                if (problem is not null)
                {
                    var key = ExperimentJson.Key(problem.Field.Split('.')[0]);
                    throw new ExperimentException($"{section}.{key}", problem.Rule, ExperimentJson.Show(options[key]));
                }
            }
            result[section] = new StageSettings(options, seed);
        }
        return result;
    }

    private static List<(string Path, IReadOnlyList<JsonNode> Values)> ParseSweep(JsonObject root, Dictionary<string, string[]> sections, ITaskDescriptor task)
    {
        var axes = new List<(string, IReadOnlyList<JsonNode>)>();
        if (root["sweep"] is not { } node) return axes;
        if (node is not JsonObject obj) throw new ExperimentException("sweep", "must be an object of \"section.key\": [values]", ExperimentJson.Show(node));
        foreach (var (path, values) in obj)
        {
            var dot = path.IndexOf('.');
            var section = dot > 0 ? path[..dot] : "";
            var key = dot > 0 ? path[(dot + 1)..] : path;
            var topLevel = dot < 0 && task.ExperimentKeys.Contains(path);
            if (!topLevel && (!sections.TryGetValue(section, out var keys) || !keys.Contains(key)))
                ExperimentJson.Fail($"sweep.{path}", $"not a sweepable setting; use {Sweepable(task)} (model: {string.Join(", ", sections["model"])}); seeds go in \"seeds\"", "");
            if (values is not JsonArray array || array.Count == 0) throw new ExperimentException($"sweep.{path}", "must be a non-empty array of values", ExperimentJson.Show(values));
            if (array.Any(v => v is null)) ExperimentJson.Fail($"sweep.{path}", "must not contain null", ExperimentJson.Show(values));
            var shown = array.Select(v => ExperimentJson.Show(v)).ToList();
            if (shown.Distinct().Count() != shown.Count) ExperimentJson.Fail($"sweep.{path}", "repeats a value", ExperimentJson.Show(values));
            if (topLevel ? root.ContainsKey(path) : root[section] is JsonObject o && o.ContainsKey(key))
                ExperimentJson.Fail($"sweep.{path}", $"also set in {(topLevel ? path : $"{section}.{key}")}; set it in one place", ExperimentJson.Show(values));
            axes.Add((path, array.Select(v => v!.DeepClone()).ToList()));
        }
        return axes;
    }

    /// <summary>What a sweep axis or an include entry may set, in words: the task's own top-level keys, then model.&lt;key&gt; and training.&lt;key&gt;.</summary>
    private static string Sweepable(ITaskDescriptor task) => string.Join(", ", task.ExperimentKeys.Append("model.<key>").Append("training.<key>"));

    /// <summary>
    /// The "include" entries: each one more point per seed (its own "seeds", else the file's), set like the file's top level —
    /// the task's own keys (e.g. "hmm"), "model" and "training" sections, which override the file's. The entry's settings are
    /// its coordinates (and name its points), as a sweep's values are.
    /// </summary>
    private static List<(string Where, List<(string Path, JsonNode Value)> Combination, IReadOnlyList<long> Seeds)> ParseInclude(
        JsonObject root, Dictionary<string, string[]> sections, ITaskDescriptor task, IReadOnlyList<long> seeds)
    {
        var result = new List<(string, List<(string, JsonNode)>, IReadOnlyList<long>)>();
        if (root["include"] is not { } node) return result;
        if (node is not JsonArray array || array.Count == 0) throw new ExperimentException("include", "must be a non-empty array of objects (each: " + Sweepable(task).Replace("<key>", "{…}", StringComparison.Ordinal) + ", seeds)", ExperimentJson.Show(node));
        for (int i = 0; i < array.Count; i++)
        {
            var where = $"include[{i}]";
            if (array[i] is not JsonObject entry || entry.Count == 0) throw new ExperimentException(where, "must be a non-empty object", ExperimentJson.Show(array[i]));
            ExperimentJson.Known(entry, where, [.. task.ExperimentKeys, "model", "training", "seeds"]);
            var combination = new List<(string, JsonNode)>();
            foreach (var key in task.ExperimentKeys)
                if (entry[key] is { } value) combination.Add((key, value.DeepClone()));
            foreach (var section in new[] { "model", "training" })
            {
                if (entry[section] is null) continue;
                if (entry[section] is not JsonObject obj) { ExperimentJson.Fail($"{where}.{section}", "must be an object", ExperimentJson.Show(entry[section])); continue; }
                ExperimentJson.Known(obj, $"{where}.{section}", sections[section]);
                foreach (var (key, value) in obj)
                {
                    if (value is null) ExperimentJson.Fail($"{where}.{section}.{key}", "must not be null", "null");
                    combination.Add(($"{section}.{key}", value!.DeepClone()));
                }
            }
            IReadOnlyList<long> own = seeds;
            if (entry["seeds"] is not null)
            {
                try { own = ParseSeeds(entry); }
                catch (ExperimentException e) { throw new ExperimentException($"{where}.{e.JsonPath}", e.Rule, e.Got); }
            }
            result.Add((where, combination, own));
        }
        return result;
    }

    /// <summary>Every combination of the axes' values, the last axis fastest (one empty combination without a sweep).</summary>
    private static IEnumerable<List<(string Path, JsonNode Value)>> Grid(IReadOnlyList<(string Path, IReadOnlyList<JsonNode> Values)> axes)
    {
        IEnumerable<List<(string, JsonNode)>> result = [[]];
        foreach (var (path, values) in axes)
            result = result.SelectMany(prefix => values.Select(v => new List<(string, JsonNode)>(prefix) { (path, v) })).ToList();
        return result;
    }

    private static string Slug(string value) => new([.. value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_')]);
}

/// <summary>Reading an experiment file's JSON: known keys, strings, values as errors show them; every refusal an <see cref="ExperimentException"/>.</summary>
internal static class ExperimentJson
{
    /// <summary>Refuses any key of <paramref name="obj"/> (at <paramref name="where"/>) not among <paramref name="keys"/>.</summary>
    public static void Known(JsonObject obj, string where, IReadOnlyCollection<string> keys)
    {
        foreach (var (key, _) in obj)
            if (!keys.Contains(key))
                Fail(where.Length == 0 ? key : $"{where}.{key}", $"unknown key; known: {string.Join(", ", keys)}", "");
    }

    /// <summary>A string-valued key, or null when absent (refused when required).</summary>
    public static string? String(JsonObject obj, string key, bool required = false, string prefix = "")
    {
        var node = obj[key];
        if (node is null) return required ? throw new ExperimentException(prefix + key, "required", "nothing") : null;
        return node is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new ExperimentException(prefix + key, "must be a string", Show(node));
    }

    /// <summary>The path inside the object a <see cref="JsonException"/> points at (".initial[1]"), or "".</summary>
    public static string JsonPath(JsonException e) => e.Path is { Length: > 1 } p ? p[1..] : "";

    /// <summary>A value as the error shows it (compact JSON).</summary>
    public static string Show(JsonNode? node) => node is null ? "null" : node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node.ToJsonString();

    /// <summary>A record's field name as its JSON key (camelCase).</summary>
    public static string Key(string field) => field.Length > 0 ? char.ToLowerInvariant(field[0]) + field[1..] : field;

    /// <summary>Throws the refusal of the value at <paramref name="path"/>.</summary>
    public static void Fail(string path, string rule, string got) => throw new ExperimentException(path, rule, got);

    /// <summary>What a field of <paramref name="type"/> must be, for a value of the wrong JSON type.</summary>
    public static string Expected(Type type, string key)
    {
        var property = type.GetProperties().FirstOrDefault(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase))?.PropertyType;
        property = property is null ? null : Nullable.GetUnderlyingType(property) ?? property;
        return property == typeof(int) || property == typeof(long) ? "must be an integer"
            : property == typeof(double) ? "must be a number"
            : property == typeof(string) ? "must be a string"
            : property is { IsEnum: true } ? $"must be one of {string.Join(", ", Enum.GetNames(property).Select(n => JsonNamingPolicy.KebabCaseLower.ConvertName(n)))}"
            : "has the wrong type";
    }
}
