using BenchmarkDotNet.Attributes;
using Lien.Protocol.Codes;

namespace Lien.Bench.Codes;

internal static class BenchDevice
{
    // The key and starting code of the published scenario; any device costs the same.
    public static readonly TokenDevice Device = new(SipHashKey.FromHex("a29ab82edc5fbbc41ec9530f6dac86b1"), 123456789);
}

/// <summary>Codes a server issues per second per core: one ADD_TIME token from a given count.</summary>
// One launch, 15 measured iterations: short, yet enough for a median on a shared 2-core machine.
[SimpleJob(launchCount: 1, warmupCount: 5, iterationCount: 15)]
[MedianColumn]
[MemoryDiagnoser]
public class EncodeBenchmarks
{
    [Params(10, 1_000)]
    public int Count { get; set; }

    [Benchmark]
    public IssuedToken EncodeAddTime() => TokenEncoder.Encode(BenchDevice.Device, Count, TokenType.AddTime, 30);
}

/// <summary>
/// The worst case on the device: a token that matches nothing, so the decoder walks the whole window
/// (count 0 … device count + 64) before answering.
/// </summary>
// One launch, 15 measured iterations: short, yet enough for a median on a shared 2-core machine.
[SimpleJob(launchCount: 1, warmupCount: 5, iterationCount: 15)]
[MedianColumn]
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    private TokenDecoderState _state = TokenDecoderState.Initial();
    private string _wrong = "";

    [Params(0, 100, 1_000)]
    public int DeviceCount { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _state = TokenDecoderState.Initial(DeviceCount);
        // A genuine token with its first digit changed: a typo, with the ordinary (not COUNTER_SYNC) window.
        var genuine = TokenEncoder.Encode(BenchDevice.Device, DeviceCount, TokenType.AddTime, 30).Token;
        _wrong = (genuine[0] == '9' ? '1' : (char)(genuine[0] + 1)) + genuine[1..];
        var check = TokenDecoder.Decode(BenchDevice.Device, _state, _wrong).Result.Status;
        if (check != TokenStatus.Invalid) throw new InvalidOperationException($"{_wrong} should be invalid, is {check}.");
    }

    [Benchmark]
    public TokenStatus DecodeInvalid() => TokenDecoder.Decode(BenchDevice.Device, _state, _wrong).Result.Status;
}
