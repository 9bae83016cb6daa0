using System.CommandLine;
using System.Runtime.InteropServices;
using HmmRnn.Host.Training;
using static TorchSharp.torch;

namespace HmmRnn.Host.Cli;

/// <summary><c>doctor</c>: can this machine run training? Loads TorchSharp and takes one tiny step.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var cmd = new Command("doctor", "Check that TorchSharp's native libraries load here, list the devices, and run one tiny training step.");
        cmd.SetAction(_ =>
        {
            Console.WriteLine($"OS: {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture}), .NET {Environment.Version}");
            try
            {
                MklVendorCheck.Apply(); // before the first product, as every device selection does
                var t = ones(3, 3);
                Console.WriteLine($"TorchSharp loaded: libtorch {__version__}, CPU threads {get_num_threads()}");
                Console.WriteLine($"Matrix products: {MklVendorCheck.Summary()}, kernel family {MklVendorCheck.KernelFamily()?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "n/a (no MKL)"}");
                Console.WriteLine($"CUDA available: {cuda.is_available()}" + (cuda.is_available() ? $" ({cuda.device_count()} device(s))" : ""));
                var w = randn(3, 3, requires_grad: true);
                var loss = (t.matmul(w)).pow(2).sum();
                loss.backward();
                Console.WriteLine($"one backward pass: ok (grad norm {w.grad!.norm().item<float>():F3})");
                return 0;
            }
            catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException)
            {
                Console.Error.WriteLine($"TorchSharp did not load: {e.GetBaseException().Message}");
                return 1;
            }
        });
        return cmd;
    }
}
