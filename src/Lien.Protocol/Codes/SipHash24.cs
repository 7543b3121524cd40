using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Lien.Protocol.Codes;

/// <summary>A 128-bit SipHash key, held as the two little-endian words the algorithm works on.</summary>
public readonly record struct SipHashKey(ulong K0, ulong K1)
{
    public const int Length = 16;

    /// <summary>The key from its 16 raw bytes, in order.</summary>
    public static SipHashKey FromBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != Length)
            throw new ArgumentException($"A SipHash key is {Length} bytes; got {key.Length}.", nameof(key));
        return new(BinaryPrimitives.ReadUInt64LittleEndian(key), BinaryPrimitives.ReadUInt64LittleEndian(key[8..]));
    }

    /// <summary>The key from 32 hexadecimal characters (the bytes in order, as OpenPAYGO writes them).</summary>
    public static SipHashKey FromHex(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (!TryFromHex(hex, out var key))
            throw new FormatException($"A key is {Length * 2} hexadecimal characters; got '{hex}'.");
        return key;
    }

    /// <summary>Parses 32 hexadecimal characters; false when <paramref name="hex"/> is anything else.</summary>
    public static bool TryFromHex(ReadOnlySpan<char> hex, out SipHashKey key)
    {
        key = default;
        if (hex.Length != Length * 2) return false;
        Span<byte> bytes = stackalloc byte[Length];
        for (var i = 0; i < Length; i++)
            if (!byte.TryParse(hex.Slice(i * 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i]))
                return false;
        key = FromBytes(bytes);
        return true;
    }
}

/// <summary>SipHash-2-4 (Aumasson and Bernstein): a keyed 64-bit hash, computed without allocating.</summary>
/// <remarks>
/// The four state words are plain locals passed by reference to inlined helpers, so the JIT keeps them in
/// registers in every tier; a mutable state struct was left in memory by optimised-from-the-start and
/// on-stack-replacement code, three times slower per hash.
/// </remarks>
public static class SipHash24
{
    /// <summary>The hash of <paramref name="message"/>, as the little-endian 64-bit word the reference returns.</summary>
    public static ulong Hash(SipHashKey key, ReadOnlySpan<byte> message)
    {
        Start(key, out var v0, out var v1, out var v2, out var v3);
        var whole = message.Length & ~7;
        for (var i = 0; i < whole; i += 8)
            Compress(ref v0, ref v1, ref v2, ref v3, BinaryPrimitives.ReadUInt64LittleEndian(message[i..]));

        // The last block carries the message length (mod 256) in its top byte, then the leftover bytes.
        var last = (ulong)message.Length << 56;
        for (var i = whole; i < message.Length; i++)
            last |= (ulong)message[i] << (8 * (i - whole));
        Compress(ref v0, ref v1, ref v2, ref v3, last);
        return Finish(ref v0, ref v1, ref v2, ref v3);
    }

    /// <summary>
    /// The hash of an 8-byte message given as its little-endian word: the same result as
    /// <see cref="Hash(SipHashKey, ReadOnlySpan{byte})"/> on those 8 bytes, for hot loops that hash one word at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(SipHashKey key, ulong eightByteMessage)
    {
        Start(key, out var v0, out var v1, out var v2, out var v3);
        Compress(ref v0, ref v1, ref v2, ref v3, eightByteMessage);
        Compress(ref v0, ref v1, ref v2, ref v3, 8UL << 56);
        return Finish(ref v0, ref v1, ref v2, ref v3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Start(SipHashKey key, out ulong v0, out ulong v1, out ulong v2, out ulong v3)
    {
        v0 = key.K0 ^ 0x736f6d6570736575UL;
        v1 = key.K1 ^ 0x646f72616e646f6dUL;
        v2 = key.K0 ^ 0x6c7967656e657261UL;
        v3 = key.K1 ^ 0x7465646279746573UL;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Compress(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3, ulong m)
    {
        v3 ^= m;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= m;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Finish(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v2 ^= 0xff;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        return v0 ^ v1 ^ v2 ^ v3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1; v1 = BitOperations.RotateLeft(v1, 13); v1 ^= v0; v0 = BitOperations.RotateLeft(v0, 32);
        v2 += v3; v3 = BitOperations.RotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = BitOperations.RotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = BitOperations.RotateLeft(v1, 17); v1 ^= v2; v2 = BitOperations.RotateLeft(v2, 32);
    }
}
