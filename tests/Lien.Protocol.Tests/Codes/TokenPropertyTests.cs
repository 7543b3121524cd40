using CsCheck;
using Lien.Protocol.Codes;

namespace Lien.Protocol.Tests.Codes;

public class TokenPropertyTests
{
    private static readonly TokenDevice Device = new(SipHashKey.FromHex("dac86b1a29ab82edc5fbbc41ec9530f6"), 432435255);

    private sealed record Issued(string Token, int Count, TokenType Type, int Value);

    // A server issuing codes in order, as it would: each from the count the previous one left.
    private static Issued[] Issue(IEnumerable<(TokenType Type, int Days)> requests)
    {
        var issued = new List<Issued>();
        var count = 0;
        foreach (var (type, days) in requests)
        {
            var value = type switch
            {
                TokenType.DisablePayg => OpenPaygoToken.DisablePaygValue,
                TokenType.CounterSync => OpenPaygoToken.CounterSyncValue,
                _ => days,
            };
            var token = TokenEncoder.Encode(Device, count, type, value);
            issued.Add(new(token.Token, token.NewCount, type, value));
            count = token.NewCount;
        }
        return [.. issued];
    }

    // Only 6 of a token's 9 digits are hash (3 carry the value), so a code matches another count of its own
    // chain about once in 10^6 comparisons: a limit of the 9-digit format, not of the decoder. With thousands of
    // decodes a run would meet it now and then, so sequences where it happens are left out.
    private static bool HasNoChanceMatch(Issued[] issued)
    {
        var top = issued[^1].Count + TokenDecoder.MaxCounterSyncJump;
        foreach (var sameValue in issued.GroupBy(i => i.Value))
        {
            var low = (Device.StartingCode + sameValue.Key) % 1000;
            var code = OpenPaygoToken.WithLowDigits(Device.StartingCode, low, 1000);
            var countsByHigh = new Dictionary<long, List<int>>();
            for (var count = 0; count <= top; count++, code = OpenPaygoToken.NextStandard(Device.Key, code))
            {
                if (!countsByHigh.TryGetValue(code / 1000, out var counts)) countsByHigh[code / 1000] = counts = [];
                counts.Add(count);
            }
            if (sameValue.Any(i => countsByHigh[long.Parse(i.Token, System.Globalization.CultureInfo.InvariantCulture) / 1000].Count > 1))
                return false;
        }
        return true;
    }

    [Fact]
    public void Decode_IssuedCodesInAnyOrderWithLossesAndRepeats_NeverAcceptsTwiceButCounterSyncNorCreditsExtraDays()
    {
        var request = Gen.Select(Gen.Enum<TokenType>(), Gen.Int[0, OpenPaygoToken.MaxValue]);
        var scenario =
            from issued in request.Array[1, 40].Select(Issue).Where(HasNoChanceMatch)
            from deliveries in Gen.Int[0, issued.Length - 1].Array[0, 2 * issued.Length]
            select (issued, deliveries);

        scenario.Sample(s =>
        {
            var (issued, deliveries) = s;
            var decoder = new TokenDecoder(Device, TokenDecoderState.Initial());
            var acceptedCounts = new HashSet<int>();
            var creditedDays = 0;
            foreach (var code in deliveries.Select(i => issued[i]))
            {
                var before = decoder.State.Count;
                var result = decoder.Decode(code.Token);
                Assert.True(decoder.State.Count >= before, "the device count went down");
                if (result.Status != TokenStatus.Ok) continue;

                // A COUNTER_SYNC may be entered again (it credits nothing); every other code is accepted at most once.
                Assert.True(acceptedCounts.Add(code.Count) || code.Type == TokenType.CounterSync, $"{code.Token} (count {code.Count}) accepted twice");
                Assert.Equal(new TokenDecodeResult(TokenStatus.Ok, code.Type, code.Value, code.Count), result);
                if (result.Type == TokenType.AddTime) creditedDays += code.Value;
            }
            Assert.True(creditedDays <= issued.Where(i => i.Type == TokenType.AddTime).Sum(i => i.Value),
                "credited more ADD_TIME days than were issued");
        }, iter: 300);
    }
}
