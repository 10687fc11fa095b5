package tone

import "time"

// Helpers that keep the country table readable. Durations are in ms.

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// freqs is a sum of sinusoids all at one level in dBm0.
func freqs(level float64, hz ...float64) Sound {
	s := Sound{Components: make([]Component, len(hz))}
	for i, f := range hz {
		s.Components[i] = Component{FreqHz: f, Level: level}
	}
	return s
}

// mix is a sum of sinusoids with their own levels.
func mix(c ...Component) Sound { return Sound{Components: c} }

// modulated is E.180's "f×m": a carrier amplitude-modulated by m Hz.
func modulated(hz, level, modHz, depth float64) Sound {
	return Sound{Components: []Component{{hz, level}}, ModHz: modHz, ModDepth: depth}
}

func continuous(s Sound) Tone { return Tone{Sound: s} }

// cadence gates s on and off, durations alternating on, off, on, off …,
// repeating forever.
func cadence(s Sound, onOff ...int) Tone {
	t := Tone{Sound: s, Cadence: make([]Segment, len(onOff))}
	for i, d := range onOff {
		t.Cadence[i] = Segment{Duration: ms(d), On: i%2 == 0}
	}
	return t
}

// steps is a looping cadence of explicit segments.
func steps(s Sound, seg ...Segment) Tone { return Tone{Sound: s, Cadence: seg} }

func on(d int) Segment              { return Segment{Duration: ms(d), On: true} }
func off(d int) Segment             { return Segment{Duration: ms(d)} }
func onWith(d int, s Sound) Segment { return Segment{Duration: ms(d), On: true, Sound: s} }
func times(t Tone, n int) Tone      { t.Repeat = n; return t }
func ringing(hz float64, onOff ...int) RingCadence {
	r := RingCadence{FreqHz: hz, Pattern: make([]time.Duration, len(onOff))}
	for i, d := range onOff {
		r.Pattern[i] = ms(d)
	}
	return r
}

// stutter is n bursts of s (onMs on, offMs off), then s without end.
func stutter(s Sound, n, onMs, offMs int) Tone {
	t := Tone{Sound: s, Cadence: make([]Segment, 0, 2*n+1), Loop: 2 * n}
	for range n {
		t.Cadence = append(t.Cadence, on(onMs), off(offMs))
	}
	t.Cadence = append(t.Cadence, on(1000))
	return t
}

// houseLevel is the level, in dBm0 per component, that Tipring uses where
// the sources at hand give a tone's frequency and cadence but not its
// level. It is the level of the North American audible ringing tone.
const houseLevel = -19

// callWaitingPlays is how many times Tipring plays a call waiting cadence
// when the national plan does not say how often.
const callWaitingPlays = 3

// Receiver off-hook tone (Telcordia GR-506-CORE §17.2.8): 1400, 2060,
// 2450 and 2600 Hz, 0.1 s on, 0.1 s off. GR-506 asks for a far higher level
// (several dB above 0 dBm0 per frequency, raised in the analog path); in a
// PCM channel four components at −10 dBm0 each are the loudest that cannot
// clip. Countries whose plan defines no off-hook tone use this one too.
var rohTone = cadence(freqs(-10, 1400, 2060, 2450, 2600), 100, 100)

// northAmerica is the precise audible tone plan shared by the US and
// Canada: Telcordia GR-506-CORE §17 and ITU-T E.300-series Supplement 3
// (North American precise audible tone plan), levels per frequency.
func northAmerica(code, name string) Country {
	dial := freqs(-13, 350, 440)
	return Country{
		Code:        code,
		Name:        name,
		Dial:        continuous(dial),
		Ringback:    cadence(freqs(-19, 440, 480), 2000, 4000),
		Busy:        cadence(freqs(-24, 480, 620), 500, 500),
		Congestion:  cadence(freqs(-24, 480, 620), 250, 250),
		Stutter:     stutter(dial, 10, 100, 100),
		CallWaiting: times(cadence(freqs(-13, 440), 300, 9700), 2),
		Howler:      rohTone,
		Ring:        ringing(20, 2000, 4000),
		CallerID:    "bellcore",
		Impedance:   "600",
		Source: "Telcordia GR-506-CORE §17 and ITU-T E.300 Suppl. 3 (precise tone plan) for " +
			"tones and levels; call waiting: one 300 ms burst, repeated once 10 s later",
	}
}

// countries is the table. Frequencies and cadences come from ITU-T E.180
// Supplement 2 (the "Various tones used in national networks" list ITU
// publishes with Operational Bulletin 781, 2003) unless a country's comment
// names a national document; levels come from the national document where
// one is named and are otherwise houseLevel. Caller ID standards and line
// impedances are those of the national network access specifications.
var countries = []Country{
	// United States: GR-506-CORE, E.300 Suppl. 3.
	northAmerica("us", "United States"),
	// Canada: the same North American precise tone plan (CSA/ISED follow
	// GR-506 for tones); ringing 20 Hz, 2 s on 4 s off.
	northAmerica("ca", "Canada"),

	// United Kingdom: BT SIN 350 (tones), SIN 351 (ringing), SIN 227 (caller
	// display); E.180 Suppl. 2 agrees on frequencies and cadences. The
	// dial tone levels and the louder second burst of the congestion
	// ("path engaged") tone follow BT's published tone descriptions. BT's
	// howler is a siren of rising level; Tipring plays its common PABX
	// form, DTMF "*" (941+1209 Hz) and "#" (941+1477 Hz) alternating every
	// 250 ms (the timing is Tipring's).
	{
		Code:        "uk",
		Name:        "United Kingdom",
		Dial:        continuous(mix(Component{350, -20}, Component{440, -23})),
		Ringback:    cadence(freqs(houseLevel, 400, 450), 400, 200, 400, 2000),
		Busy:        cadence(freqs(-20, 400), 375, 375),
		Congestion:  steps(freqs(-20, 400), on(400), off(350), onWith(225, freqs(-14, 400)), off(525)),
		Stutter:     steps(mix(Component{350, -20}, Component{440, -23}), on(750), onWith(750, freqs(-23, 440))),
		CallWaiting: times(cadence(freqs(-20, 400), 100, 4000), callWaitingPlays),
		Howler: steps(Sound{},
			onWith(250, freqs(-10, 941, 1209)), onWith(250, freqs(-10, 941, 1477))),
		Ring:      ringing(25, 400, 200, 400, 2000),
		CallerID:  "bt",
		Impedance: "370+620||310nF",
		Source:    "BT SIN 350/351/227, ITU-T E.180 Suppl. 2; howler timing and ringback level Tipring's",
	},

	// Germany: E.180 Suppl. 2 (Deutsche Telekom, 1 TR 110); the special
	// dial tone is 425+400 Hz continuous. Ringing 25 Hz 1 s / 4 s;
	// impedance of 1 TR 110 / TBR 21 national variant.
	{
		Code:        "de",
		Name:        "Germany",
		Dial:        continuous(freqs(houseLevel, 425)),
		Ringback:    cadence(freqs(houseLevel, 425), 1000, 4000),
		Busy:        cadence(freqs(houseLevel, 425), 480, 480),
		Congestion:  cadence(freqs(houseLevel, 425), 240, 240),
		Stutter:     continuous(freqs(houseLevel, 400, 425)),
		CallWaiting: times(cadence(freqs(houseLevel, 425), 200, 200, 200, 5000), callWaitingPlays),
		Howler:      rohTone,
		Ring:        ringing(25, 1000, 4000),
		CallerID:    "etsi-fsk",
		Impedance:   "220+820||115nF",
		Source:      "ITU-T E.180 Suppl. 2 (Germany); levels houseLevel; no national off-hook tone, GR-506 ROH used",
	},

	// France: E.180 Suppl. 2 (France Télécom, 440 Hz plan); ringing 50 Hz,
	// 1.5 s / 3.5 s. The stutter tone (not in E.180 for France) is the
	// North American pattern on 440 Hz.
	{
		Code:        "fr",
		Name:        "France",
		Dial:        continuous(freqs(houseLevel, 440)),
		Ringback:    cadence(freqs(houseLevel, 440), 1500, 3500),
		Busy:        cadence(freqs(houseLevel, 440), 500, 500),
		Congestion:  cadence(freqs(houseLevel, 440), 250, 250),
		Stutter:     stutter(freqs(houseLevel, 440), 10, 100, 100),
		CallWaiting: times(cadence(freqs(houseLevel, 440), 300, 10000), callWaitingPlays),
		Howler:      rohTone,
		Ring:        ringing(50, 1500, 3500),
		CallerID:    "etsi-fsk",
		Impedance:   "215+1000||137nF",
		Source:      "ITU-T E.180 Suppl. 2 (France); levels houseLevel; stutter and howler Tipring's",
	},

	// Australia: ACIF (Communications Alliance) S002 and E.180 Suppl. 2:
	// dial and ringback 413+438 Hz (425 Hz modulated by 12.5 Hz, carrier
	// suppressed), busy 425 Hz 0.375/0.375, congestion 425 Hz whose every
	// other burst is 10 dB lower, stutter 413+438 Hz 100 ms on / 40 ms off.
	{
		Code:        "au",
		Name:        "Australia",
		Dial:        continuous(freqs(houseLevel, 413, 438)),
		Ringback:    cadence(freqs(houseLevel, 413, 438), 400, 200, 400, 2000),
		Busy:        cadence(freqs(houseLevel, 425), 375, 375),
		Congestion:  steps(freqs(houseLevel, 425), on(375), off(375), onWith(375, freqs(houseLevel-10, 425)), off(375)),
		Stutter:     cadence(freqs(houseLevel, 413, 438), 100, 40),
		CallWaiting: times(cadence(freqs(houseLevel, 425), 200, 200, 200, 4400), callWaitingPlays),
		Howler:      rohTone,
		Ring:        ringing(25, 400, 200, 400, 2000),
		CallerID:    "etsi-fsk",
		Impedance:   "220+820||120nF",
		Source:      "ACIF S002, ITU-T E.180 Suppl. 2 (Australia); levels houseLevel; howler GR-506 ROH",
	},

	// Japan: NTT "Telephone service interfaces" and E.180 Suppl. 2: 400 Hz
	// tones, ringback and call waiting 400 Hz modulated by 16 Hz (E.180
	// gives no depth; Tipring uses 90 %), ringing 16 Hz 1 s / 2 s.
	{
		Code:        "jp",
		Name:        "Japan",
		Dial:        continuous(freqs(houseLevel, 400)),
		Ringback:    cadence(modulated(400, houseLevel, 16, 0.9), 1000, 2000),
		Busy:        cadence(freqs(houseLevel, 400), 500, 500),
		Congestion:  cadence(freqs(houseLevel, 400), 500, 500),
		Stutter:     stutter(freqs(houseLevel, 400), 10, 100, 100),
		CallWaiting: times(cadence(modulated(400, houseLevel, 16, 0.9), 500, 8000), callWaitingPlays),
		Howler:      rohTone,
		Ring:        ringing(16, 1000, 2000),
		CallerID:    "ntt",
		Impedance:   "600",
		Source:      "NTT TIS, ITU-T E.180 Suppl. 2 (Japan); levels houseLevel; stutter and howler Tipring's",
	},

	// Netherlands: E.180 Suppl. 2 (KPN); special dial tone 425 Hz
	// 500 ms on / 50 ms off; ringing 25 Hz 1 s / 4 s; DTMF caller ID before
	// the first ring.
	{
		Code:        "nl",
		Name:        "Netherlands",
		Dial:        continuous(freqs(houseLevel, 425)),
		Ringback:    cadence(freqs(houseLevel, 425), 1000, 4000),
		Busy:        cadence(freqs(houseLevel, 425), 500, 500),
		Congestion:  cadence(freqs(houseLevel, 425), 250, 250),
		Stutter:     cadence(freqs(houseLevel, 425), 500, 50),
		CallWaiting: times(cadence(freqs(houseLevel, 425), 500, 9500), callWaitingPlays),
		Howler:      rohTone,
		Ring:        ringing(25, 1000, 4000),
		CallerID:    "etsi-dtmf",
		Impedance:   "270+750||150nF",
		Source:      "ITU-T E.180 Suppl. 2 (Netherlands); levels houseLevel; howler GR-506 ROH",
	},

	// Italy: E.180 Suppl. 2 (Telecom Italia): dial tone 425 Hz
	// 0.2/0.2/0.6/1.0, special dial tone 470 Hz and 425 Hz alternating
	// every 400 ms, call waiting 0.4/0.1/0.25/0.1/0.15/14.
	{
		Code:        "it",
		Name:        "Italy",
		Dial:        cadence(freqs(houseLevel, 425), 200, 200, 600, 1000),
		Ringback:    cadence(freqs(houseLevel, 425), 1000, 4000),
		Busy:        cadence(freqs(houseLevel, 425), 500, 500),
		Congestion:  cadence(freqs(houseLevel, 425), 200, 200),
		Stutter:     steps(Sound{}, onWith(400, freqs(houseLevel, 470)), onWith(400, freqs(houseLevel, 425))),
		CallWaiting: times(cadence(freqs(houseLevel, 425), 400, 100, 250, 100, 150, 14000), callWaitingPlays),
		Howler:      rohTone,
		Ring:        ringing(25, 1000, 4000),
		CallerID:    "etsi-fsk",
		Impedance:   "180+630||60nF",
		Source:      "ITU-T E.180 Suppl. 2 (Italy); levels houseLevel; howler GR-506 ROH",
	},

	// Spain: E.180 Suppl. 2 (Telefónica): busy 0.2/0.2, congestion
	// 0.2/0.2/0.2/0.2/0.2/0.6, ringback and ringing 1.5 s / 3 s.
	{
		Code:        "es",
		Name:        "Spain",
		Dial:        continuous(freqs(houseLevel, 425)),
		Ringback:    cadence(freqs(houseLevel, 425), 1500, 3000),
		Busy:        cadence(freqs(houseLevel, 425), 200, 200),
		Congestion:  cadence(freqs(houseLevel, 425), 200, 200, 200, 200, 200, 600),
		Stutter:     stutter(freqs(houseLevel, 425), 3, 200, 200),
		CallWaiting: times(cadence(freqs(houseLevel, 425), 175, 175, 175, 3500), callWaitingPlays),
		Howler:      rohTone,
		Ring:        ringing(25, 1500, 3000),
		CallerID:    "etsi-fsk",
		Impedance:   "220+820||120nF",
		Source:      "ITU-T E.180 Suppl. 2 (Spain); levels houseLevel; howler GR-506 ROH",
	},

	// Sweden: E.180 Suppl. 2 (Telia): busy 0.25/0.25, congestion
	// 0.25/0.75, special dial tone 320 ms on / 20 ms off, ringing 1 s / 5 s;
	// DTMF caller ID.
	{
		Code:        "se",
		Name:        "Sweden",
		Dial:        continuous(freqs(houseLevel, 425)),
		Ringback:    cadence(freqs(houseLevel, 425), 1000, 5000),
		Busy:        cadence(freqs(houseLevel, 425), 250, 250),
		Congestion:  cadence(freqs(houseLevel, 425), 250, 750),
		Stutter:     cadence(freqs(houseLevel, 425), 320, 20),
		CallWaiting: times(cadence(freqs(houseLevel, 425), 200, 500, 200, 9100), callWaitingPlays),
		Howler:      rohTone,
		Ring:        ringing(25, 1000, 5000),
		CallerID:    "etsi-dtmf",
		Impedance:   "200+1000||100nF",
		Source:      "ITU-T E.180 Suppl. 2 (Sweden); levels houseLevel; howler GR-506 ROH",
	},

	// Switzerland: E.180 Suppl. 2 (Swisscom): special dial tone 425+340 Hz
	// 1.1 s / 1.1 s, call waiting 0.2/0.2/0.2/4.
	{
		Code:        "ch",
		Name:        "Switzerland",
		Dial:        continuous(freqs(houseLevel, 425)),
		Ringback:    cadence(freqs(houseLevel, 425), 1000, 4000),
		Busy:        cadence(freqs(houseLevel, 425), 500, 500),
		Congestion:  cadence(freqs(houseLevel, 425), 200, 200),
		Stutter:     cadence(freqs(houseLevel, 340, 425), 1100, 1100),
		CallWaiting: times(cadence(freqs(houseLevel, 425), 200, 200, 200, 4000), callWaitingPlays),
		Howler:      rohTone,
		Ring:        ringing(25, 1000, 4000),
		CallerID:    "etsi-fsk",
		Impedance:   "270+750||150nF",
		Source:      "ITU-T E.180 Suppl. 2 (Switzerland); levels houseLevel; howler GR-506 ROH",
	},

	// Belgium: E.180 Suppl. 2 (Belgacom): ringback 1 s / 3 s, congestion
	// 167/167 ms, call waiting 1400 Hz 0.175/0.175/0.175/3.5; DTMF caller ID.
	{
		Code:        "be",
		Name:        "Belgium",
		Dial:        continuous(freqs(houseLevel, 425)),
		Ringback:    cadence(freqs(houseLevel, 425), 1000, 3000),
		Busy:        cadence(freqs(houseLevel, 425), 500, 500),
		Congestion:  cadence(freqs(houseLevel, 425), 167, 167),
		Stutter:     cadence(freqs(houseLevel, 425), 1000, 250),
		CallWaiting: times(cadence(freqs(houseLevel, 1400), 175, 175, 175, 3500), callWaitingPlays),
		Howler:      rohTone,
		Ring:        ringing(25, 1000, 3000),
		CallerID:    "etsi-dtmf",
		Impedance:   "150+830||72nF",
		Source:      "ITU-T E.180 Suppl. 2 (Belgium); levels houseLevel; howler GR-506 ROH",
	},

	// India: E.180 Suppl. 2 (DoT/TEC): dial and ringback 400 Hz modulated
	// by 25 Hz (depth not given; Tipring uses 90 %), busy 400 Hz
	// 0.75/0.75, ringing 25 Hz 0.4/0.2/0.4/2.0; DTMF caller ID.
	{
		Code:        "in",
		Name:        "India",
		Dial:        continuous(modulated(400, houseLevel, 25, 0.9)),
		Ringback:    cadence(modulated(400, houseLevel, 25, 0.9), 400, 200, 400, 2000),
		Busy:        cadence(freqs(houseLevel, 400), 750, 750),
		Congestion:  cadence(freqs(houseLevel, 400), 250, 250),
		Stutter:     stutter(modulated(400, houseLevel, 25, 0.9), 10, 100, 100),
		CallWaiting: times(cadence(freqs(houseLevel, 400), 200, 100, 200, 7500), callWaitingPlays),
		Howler:      rohTone,
		Ring:        ringing(25, 400, 200, 400, 2000),
		CallerID:    "etsi-dtmf",
		Impedance:   "600",
		Source:      "ITU-T E.180 Suppl. 2 (India); levels houseLevel; stutter and howler Tipring's",
	},
}
