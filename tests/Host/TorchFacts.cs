using TorchSharp;
using static TorchSharp.torch;

namespace HmmRnn.Host.Tests;

/// <summary>TorchSharp tests share native state: run them one at a time.</summary>
[CollectionDefinition("torch", DisableParallelization = true)]
public sealed class TorchCollection;

/// <summary>A fact that needs CUDA: skipped, with the reason, where no CUDA device is present.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!cuda.is_available()) Skip = "CUDA is not available on this machine (TorchSharp-cpu build or no GPU)";
    }
}

/// <summary>A fact that needs AVX-512 (the one-hot Sinkhorn kernel's level table): skipped, with the reason, elsewhere.</summary>
public sealed class Avx512FactAttribute : FactAttribute
{
    public Avx512FactAttribute()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512BW.IsSupported) Skip = "this CPU has no AVX-512 (the level table's permutes and the vector popcount need it)";
    }
}

/// <summary>A theory that needs AVX-512: skipped, with the reason, elsewhere.</summary>
public sealed class Avx512TheoryAttribute : TheoryAttribute
{
    public Avx512TheoryAttribute()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512BW.IsSupported) Skip = "this CPU has no AVX-512 (the level table's permutes need it)";
    }
}

/// <summary>A test class with its own temporary folder, removed afterwards.</summary>
public abstract class TempFolderTest : IDisposable
{
    protected string Root { get; } = Path.Combine(Path.GetTempPath(), "hmmrnn-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
        if (File.Exists(Root)) File.Delete(Root);
        GC.SuppressFinalize(this);
    }
}

/// <summary>Runs a command in-process; returns its exit code and what it wrote to standard error.</summary>
public static class CliRunner
{
    public static (int Code, string Error) Run(System.CommandLine.Command command, params string[] args)
    {
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        try { return (command.Parse(args).Invoke(), error.ToString()); }
        finally { Console.SetError(saved); }
    }
}
