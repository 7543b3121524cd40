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
public static class SipHash24
{
    /// <summary>The hash of <paramref name="message"/>, as the little-endian 64-bit word the reference returns.</summary>
    public static ulong Hash(SipHashKey key, ReadOnlySpan<byte> message)
    {
        var state = new State(key);
        var whole = message.Length & ~7;
        for (var i = 0; i < whole; i += 8)
            state.Compress(BinaryPrimitives.ReadUInt64LittleEndian(message[i..]));

        // The last block carries the message length (mod 256) in its top byte, then the leftover bytes.
        var last = (ulong)message.Length << 56;
        for (var i = whole; i < message.Length; i++)
            last |= (ulong)message[i] << (8 * (i - whole));
        state.Compress(last);
        return state.Finish();
    }

    /// <summary>
    /// The hash of an 8-byte message given as its little-endian word: the same result as
    /// <see cref="Hash(SipHashKey, ReadOnlySpan{byte})"/> on those 8 bytes, for hot loops that hash one word at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(SipHashKey key, ulong eightByteMessage)
    {
        var state = new State(key);
        state.Compress(eightByteMessage);
        state.Compress(8UL << 56);
        return state.Finish();
    }

    private struct State(SipHashKey key)
    {
        private ulong _v0 = key.K0 ^ 0x736f6d6570736575UL;
        private ulong _v1 = key.K1 ^ 0x646f72616e646f6dUL;
        private ulong _v2 = key.K0 ^ 0x6c7967656e657261UL;
        private ulong _v3 = key.K1 ^ 0x7465646279746573UL;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Compress(ulong m)
        {
            _v3 ^= m;
            Round();
            Round();
            _v0 ^= m;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ulong Finish()
        {
            _v2 ^= 0xff;
            Round();
            Round();
            Round();
            Round();
            return _v0 ^ _v1 ^ _v2 ^ _v3;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Round()
        {
            _v0 += _v1; _v1 = BitOperations.RotateLeft(_v1, 13); _v1 ^= _v0; _v0 = BitOperations.RotateLeft(_v0, 32);
            _v2 += _v3; _v3 = BitOperations.RotateLeft(_v3, 16); _v3 ^= _v2;
            _v0 += _v3; _v3 = BitOperations.RotateLeft(_v3, 21); _v3 ^= _v0;
            _v2 += _v1; _v1 = BitOperations.RotateLeft(_v1, 17); _v1 ^= _v2; _v2 = BitOperations.RotateLeft(_v2, 32);
        }
    }
}
