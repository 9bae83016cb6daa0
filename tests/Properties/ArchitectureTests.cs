using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.CompilerServices;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Core.HiddenMarkov;

namespace HmmRnn.Properties;

/// <summary>The design card's dependency and immutability rules (shared/DESIGN.md), enforced.</summary>
public class ArchitectureTests
{
    private static readonly Assembly Core = typeof(Hmm).Assembly;
    private static readonly Assembly Analysis = typeof(EmpiricalStatistics).Assembly;

    private static bool IsFramework(AssemblyName a) =>
        a.Name is "netstandard" or "mscorlib" || a.Name!.StartsWith("System", StringComparison.Ordinal) || a.Name.StartsWith("Microsoft.Win32", StringComparison.Ordinal);

    [Fact]
    public void Core_references_nothing_but_the_framework()
    {
        var others = Core.GetReferencedAssemblies().Where(a => !IsFramework(a)).Select(a => a.Name).ToArray();
        Assert.Empty(others);
        // The framework's effectful corners are off limits as well.
        Assert.DoesNotContain(Core.GetReferencedAssemblies(), a => a.Name is "System.Console" or "System.Reactive" or "System.Net.Http");
    }

    [Fact]
    public void Analysis_references_only_Core_and_MathNet()
    {
        var others = Analysis.GetReferencedAssemblies().Where(a => !IsFramework(a)).Select(a => a.Name!).Order().ToArray();
        Assert.Subset(new HashSet<string> { "HmmRnn.Core", "MathNet.Numerics" }, others.ToHashSet());
        Assert.DoesNotContain(Analysis.GetReferencedAssemblies(), a => a.Name is "System.Console");
    }

    public static TheoryData<string> PureAssemblies() => new("HmmRnn.Core", "HmmRnn.Analysis");

    private static Assembly Load(string name) => name == "HmmRnn.Core" ? Core : Analysis;

    [Theory]
    [MemberData(nameof(PureAssemblies))]
    public void Public_types_are_immutable(string assembly)
    {
        var offences = new List<string>();
        foreach (var type in Load(assembly).GetExportedTypes())
        {
            if (type.IsEnum || typeof(Delegate).IsAssignableFrom(type)) continue;
            foreach (var f in type.GetFields(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            {
                if (f.IsLiteral || f.IsInitOnly) continue;
                if (f.GetCustomAttribute<CompilerGeneratedAttribute>() is not null && f.Name.Contains("BackingField") && IsInitOnlyProperty(type, f)) continue;
                offences.Add($"{type.Name}.{f.Name} is a mutable field");
            }
            foreach (var p in type.GetProperties(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public))
                if (p.SetMethod is { IsPublic: true } set && !IsInit(set))
                    offences.Add($"{type.Name}.{p.Name} has a public setter");
        }
        Assert.Empty(offences);
    }

    [Theory]
    [MemberData(nameof(PureAssemblies))]
    public void No_public_signature_uses_out_or_ref(string assembly)
    {
        var offences = Load(assembly).GetExportedTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Concat<MethodBase>(t.GetConstructors()))
            .Where(m => m.Name != "Deconstruct") // records' positional deconstruction: a language convention
            .Where(m => m.GetParameters().Any(p => p.ParameterType.IsByRef && !p.IsIn))
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}")
            .ToArray();
        Assert.Empty(offences);
    }

    /// <summary>Framework types whose every use is an effect: the file system, the console, the process environment, hidden randomness, wall-clock timing, threads.</summary>
    private static readonly HashSet<string> ForbiddenTypes =
    [
        "System.IO.File", "System.IO.Directory", "System.IO.FileStream", "System.IO.StreamWriter", "System.IO.StreamReader",
        "System.Console", "System.Environment", "System.Random", "System.Diagnostics.Stopwatch", "System.Threading.Thread",
    ];

    /// <summary>Members that read the clock (property getters as the IL names them).</summary>
    private static readonly HashSet<string> ForbiddenMembers =
    [
        "System.DateTime.get_Now", "System.DateTime.get_UtcNow", "System.DateTime.get_Today",
        "System.DateTimeOffset.get_Now", "System.DateTimeOffset.get_UtcNow",
    ];

    /// <summary>Members of forbidden types that compiled C# itself emits and that have no effect.</summary>
    private static readonly HashSet<string> AllowedMembers = ["System.Environment.get_CurrentManagedThreadId"];

    /// <summary>
    /// Every type and member the assembly's IL refers to outside itself (its TypeReference and MemberReference
    /// tables), as "Namespace.Type" and "Namespace.Type.member"; nested types as "Outer+Inner".
    /// </summary>
    public static (IReadOnlyList<string> Types, IReadOnlyList<string> Members) ExternalReferences(string assemblyPath)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var md = pe.GetMetadataReader();
        string TypeName(TypeReferenceHandle h)
        {
            var t = md.GetTypeReference(h);
            var name = md.GetString(t.Name);
            if (t.ResolutionScope.Kind == HandleKind.TypeReference)
                return TypeName((TypeReferenceHandle)t.ResolutionScope) + "+" + name;
            var ns = md.GetString(t.Namespace);
            return ns.Length == 0 ? name : ns + "." + name;
        }
        var types = md.TypeReferences.Select(TypeName).ToList();
        var members = new List<string>();
        foreach (var h in md.MemberReferences)
        {
            var m = md.GetMemberReference(h);
            // The parent is a TypeReference for plain types; a TypeSpecification (generic instance) or a
            // method cannot name the clock or the types above without a TypeReference that the type check sees.
            if (m.Parent.Kind == HandleKind.TypeReference)
                members.Add(TypeName((TypeReferenceHandle)m.Parent) + "." + md.GetString(m.Name));
        }
        return (types, members);
    }

    [Theory]
    [MemberData(nameof(PureAssemblies))]
    public void IL_touches_no_file_console_environment_clock_thread_or_hidden_randomness(string assembly)
    {
        // System.* counts as framework in the reference checks above, so File, Console or DateTime.Now would pass
        // them: here the IL's own reference tables are read. (Parallel.For is allowed; Core uses it.)
        var (types, members) = ExternalReferences(Load(assembly).Location);
        Assert.Contains("System.Object", types); // the reader does see the references
        // A forbidden type is an offender unless every use is an allowed member: the one allowed is the managed
        // thread id that the compiler's iterator state machines (yield return) read in GetEnumerator.
        var offendingTypes = types.Where(ForbiddenTypes.Contains)
            .Where(t => members.Where(m => m.StartsWith(t + ".", StringComparison.Ordinal)).DefaultIfEmpty(t).Any(m => !AllowedMembers.Contains(m)));
        var offendingMembers = members.Where(m => ForbiddenMembers.Contains(m) ||
            (ForbiddenTypes.Contains(m[..m.LastIndexOf('.')]) && !AllowedMembers.Contains(m)));
        var offenders = offendingTypes.Concat(offendingMembers).Distinct().Order().ToArray();
        Assert.True(offenders.Length == 0, $"{assembly} refers to {string.Join(", ", offenders)}");
    }

    private static bool IsInit(MethodInfo setter) =>
        setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit));

    private static bool IsInitOnlyProperty(Type type, FieldInfo backing)
    {
        var name = backing.Name.TrimStart('<').Split('>')[0];
        var p = type.GetProperty(name, BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic);
        return p?.SetMethod is null || IsInit(p.SetMethod);
    }
}
