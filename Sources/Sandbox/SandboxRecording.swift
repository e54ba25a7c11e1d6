/// The sandbox's call recordings: a valid WAV header (8 kHz, 16-bit, mono) and noise drawn from
/// a generator seeded by the call id, so the same call always yields the same bytes.
enum SandboxRecording {
    static func bytes(callID: String, size: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: max(size, 44))
        func put(_ text: String, at offset: Int) { for (index, byte) in text.utf8.enumerated() { output[offset + index] = byte } }
        func put32(_ value: Int, at offset: Int) { for index in 0..<4 { output[offset + index] = UInt8((value >> (8 * index)) & 0xff) } }
        let data = output.count - 44
        put("RIFF", at: 0); put32(36 + data, at: 4); put("WAVE", at: 8)
        put("fmt ", at: 12); put32(16, at: 16); put32(1 | (1 << 16), at: 20)  // PCM, mono
        put32(8000, at: 24); put32(16000, at: 28); put32(2 | (16 << 16), at: 32)  // rate, bytes/s, block 2, 16 bits
        put("data", at: 36); put32(data, at: 40)
        var state: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a of the call id seeds xorshift64
        for byte in callID.utf8 { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var index = 44
        while index < output.count {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            var word = state
            for _ in 0..<8 where index < output.count {
                output[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return output
    }
}
