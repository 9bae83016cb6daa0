// Rewrites one symbol-version requirement in an ELF64 shared library, in place of an upgrade of
// the system C++ runtime. Compiled into the build as an MSBuild task (build/TorchSharpNative.targets)
// and into tests/Host, which checks the built output. Plain C#: no packages.
//
// Why: TorchSharp 0.107's libLibTorchSharp.so asks for GLIBCXX_3.4.32 (GCC 13) for one symbol,
// std::ios_base_library_init(), that it references but never calls. Debian 12 and Ubuntu 22.04 ship
// GLIBCXX_3.4.30, so the loader refuses the library. Renaming that one requirement to GLIBCXX_3.4.30
// (same length, so no offsets move) and fixing its ELF hash in .gnu.version_r lets it load there; the
// symbol stays unresolved, which is harmless as it is never called. (The glue genuinely uses other
// 3.4.30 symbols, so an older libstdc++, e.g. RHEL 9's 3.4.29, still needs a newer one installed.)
using System;
using System.IO;
using System.Text;

namespace HmmRnn.Build
{
    public static class ElfVersionPatch
    {
        private const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>The version names a library requires (from .gnu.version_r); empty if it has none or is not ELF64 LE.</summary>
        public static string[] RequiredVersions(byte[] elf)
        {
            var names = new System.Collections.Generic.List<string>();
            Walk(elf, (name, _) => names.Add(name));
            return names.ToArray();
        }

        /// <summary>
        /// Renames every requirement of version <paramref name="from"/> to <paramref name="to"/> (equal lengths),
        /// updating its hash. Returns how many were rewritten (0 when already patched: idempotent).
        /// </summary>
        public static int Rewrite(byte[] elf, string from, string to)
        {
            if (from.Length != to.Length) throw new ArgumentException("the new version name must have the length of the old one", nameof(to));
            int count = 0;
            Walk(elf, (name, aux) =>
            {
                if (name != from) return;
                var nameOffset = aux.StringOffset;
                var bytes = Encoding.ASCII.GetBytes(to);
                Array.Copy(bytes, 0, elf, nameOffset, bytes.Length);
                WriteU32(elf, aux.HashOffset, Hash(to));
                count++;
            });
            return count;
        }

        /// <summary>
        /// Patches a file in place (same length, so only the renamed bytes change and the file keeps its
        /// mode); returns the number of rewrites. A build output only: an interrupted patch is redone
        /// on the next build, which copies the library afresh.
        /// </summary>
        public static int RewriteFile(string path, string from, string to)
        {
            var elf = File.ReadAllBytes(path);
            var n = Rewrite(elf, from, to);
            if (n == 0) return 0;
            using (var s = new FileStream(path, FileMode.Open, FileAccess.Write))
            {
                s.Write(elf, 0, elf.Length);
            }
            return n;
        }

        /// <summary>The System V ELF hash of a name (the vna_hash field).</summary>
        public static uint Hash(string name)
        {
            uint h = 0;
            foreach (var c in Encoding.ASCII.GetBytes(name))
            {
                h = (h << 4) + c;
                var g = h & 0xf0000000;
                if (g != 0) h ^= g >> 24;
                h &= ~g;
            }
            return h;
        }

        private readonly struct Aux
        {
            public Aux(int hashOffset, int stringOffset) { HashOffset = hashOffset; StringOffset = stringOffset; }
            public int HashOffset { get; }
            public int StringOffset { get; }
        }

        private static void Walk(byte[] elf, Action<string, Aux> visit)
        {
            // ELF64, little-endian only (x86-64 and arm64 Linux).
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2 || elf[5] != 1)
                return;
            var shoff = (long)ReadU64(elf, 0x28);
            int shentsize = ReadU16(elf, 0x3A), shnum = ReadU16(elf, 0x3C);
            for (int i = 0; i < shnum; i++)
            {
                var sh = checked((int)(shoff + (long)i * shentsize));
                if (ReadU32(elf, sh + 4) != ShtGnuVerneed) continue;
                var offset = checked((int)ReadU64(elf, sh + 0x18));
                var link = (int)ReadU32(elf, sh + 0x28);
                var entries = (int)ReadU32(elf, sh + 0x2C);
                var strtab = checked((int)ReadU64(elf, checked((int)(shoff + (long)link * shentsize)) + 0x18));
                var vn = offset;
                for (int e = 0; e < entries; e++)
                {
                    int cnt = ReadU16(elf, vn + 2);
                    var aux = vn + (int)ReadU32(elf, vn + 8);
                    for (int a = 0; a < cnt; a++)
                    {
                        var nameAt = strtab + (int)ReadU32(elf, aux + 8);
                        var end = Array.IndexOf(elf, (byte)0, nameAt);
                        visit(Encoding.ASCII.GetString(elf, nameAt, end - nameAt), new Aux(aux, nameAt));
                        aux += (int)ReadU32(elf, aux + 12);
                    }
                    var next = (int)ReadU32(elf, vn + 12);
                    if (next == 0) break;
                    vn += next;
                }
            }
        }

        private static ushort ReadU16(byte[] b, int o) => BitConverter.ToUInt16(b, o);
        private static uint ReadU32(byte[] b, int o) => BitConverter.ToUInt32(b, o);
        private static ulong ReadU64(byte[] b, int o) => BitConverter.ToUInt64(b, o);
        private static void WriteU32(byte[] b, int o, uint v) => BitConverter.GetBytes(v).CopyTo(b, o);
    }
}

#if !HMMRNN_NO_MSBUILD_TASK
// The MSBuild face of ElfVersionPatch (compiled by RoslynCodeTaskFactory from this file; the tests
// compile this file with HMMRNN_NO_MSBUILD_TASK).
public class HmmRnnPatchElfVersion : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required] public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = new Microsoft.Build.Framework.ITaskItem[0];
    [Microsoft.Build.Framework.Required] public string From { get; set; } = "";
    [Microsoft.Build.Framework.Required] public string To { get; set; } = "";

    public override bool Execute()
    {
        foreach (var f in Files)
        {
            var n = HmmRnn.Build.ElfVersionPatch.RewriteFile(f.ItemSpec, From, To);
            if (n > 0) Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, f.ItemSpec + ": " + From + " -> " + To);
        }
        return !Log.HasLoggedErrors;
    }
}
#endif
