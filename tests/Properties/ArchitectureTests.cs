using System.Reflection;
using System.Runtime.CompilerServices;
using HmmRnn.Analysis;
using HmmRnn.Core;

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

    private static bool IsInit(MethodInfo setter) =>
        setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit));

    private static bool IsInitOnlyProperty(Type type, FieldInfo backing)
    {
        var name = backing.Name.TrimStart('<').Split('>')[0];
        var p = type.GetProperty(name, BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic);
        return p?.SetMethod is null || IsInit(p.SetMethod);
    }
}
