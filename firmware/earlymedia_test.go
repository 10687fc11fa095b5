package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp/dsptest"
	"github.com/tipring/tipring/dsp/g711"
	"github.com/tipring/tipring/sip/siptest/sipptest"
)

// RFC 3261 §13.2.2.1 and RFC 3960: a far end that answers 183 Session
// Progress with SDP and sends audio before it answers (an announcement, a
// ringback of its own) is heard by the phone in place of the gateway's
// ringback; when it answers, the call goes on with the same stream.
//
// The far end is SIPp as 1004, registered with the same Kamailio by a
// second SIPp (a UAS cannot register itself: the INVITE would not match
// the registration's call), streaming a 1400 Hz tone as PCMU from its 183
// on and answering 2.5 s later.
func TestSIPEarlyMediaEndToEnd(t *testing.T) {
	g, srv := sipGatewayServer(t, "")
	dir := t.TempDir()
	tone := make([]byte, 8000)
	for i := range tone {
		tone[i] = g711.UlawFromLinear(int16(6000 * math.Sin(2*math.Pi*1400*float64(i)/8000)))
	}
	toneFile := filepath.Join(dir, "tone.ulaw")
	if err := os.WriteFile(toneFile, tone, 0o644); err != nil {
		t.Fatal(err)
	}
	uasFile := filepath.Join(dir, "uas_early_media.xml")
	if err := os.WriteFile(uasFile, []byte(fmt.Sprintf(earlyMediaUAS, toneFile)), 0o644); err != nil {
		t.Fatal(err)
	}
	uas := sipptest.Start(t, sipptest.Config{Scenario: uasFile, Timeout: 40 * time.Second})
	regFile := filepath.Join(dir, "register_contact.xml")
	if err := os.WriteFile(regFile, []byte(fmt.Sprintf(registerContact, uas.Addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	sipptest.Start(t, sipptest.Config{Scenario: regFile, Remote: srv.UDPAddr}).Wait(10 * time.Second)

	liftAndDial(t, g, 1, "1004#", "dtmf")
	waitState(t, g, 1, "earlymedia", 5*time.Second)
	time.Sleep(600 * time.Millisecond) // the jitter buffer fills; ringback, if any, would have started
	x := heard(t, g, 1, 400)
	if lv := dsptest.Level(x, 1400); lv < -30 {
		t.Errorf("early media: the 1400 Hz tone at %.1f dBm0 in the earpiece", lv)
	}
	for _, f := range []float64{440, 480} {
		if lv := dsptest.Level(x, f); lv > -50 {
			t.Errorf("early media: %v Hz (local ringback) at %.1f dBm0 in the earpiece", f, lv)
		}
	}
	if st := g.lines[0].Status(); st.State != "earlymedia" {
		t.Errorf("the line is %q while the far end's 183 plays, want earlymedia", st.State)
	}
	waitState(t, g, 1, "connected", 5*time.Second)
	time.Sleep(400 * time.Millisecond)
	if lv := dsptest.Level(heard(t, g, 1, 400), 1400); lv < -30 {
		t.Errorf("answered: the 1400 Hz tone at %.1f dBm0 in the earpiece", lv)
	}
	hookAction(t, g, 1, "on")
	uas.Wait(10 * time.Second)
}

// earlyMediaUAS is the far end's scenario; %s is the raw PCMU file it
// streams.
const earlyMediaUAS = `<?xml version="1.0" encoding="UTF-8"?>
<scenario name="uas early media, then answer">
  <recv request="INVITE"/>
  <send><![CDATA[
      SIP/2.0 183 Session Progress
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:1004@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

v=0
o=sipp 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
  ]]></send>
  <nop>
    <action>
      <exec rtp_stream="%s,-1,0"/>
    </action>
  </nop>
  <pause milliseconds="2500"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:1004@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

v=0
o=sipp 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
  ]]></send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
  ]]></send>
</scenario>
`

// registerContact registers 1004 (password pw1004) with the registrar SIPp
// calls, giving the address %s as where it is reached.
const registerContact = `<?xml version="1.0" encoding="UTF-8"?>
<scenario name="register a contact">
  <send retrans="500"><![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1004@[remote_ip]>;tag=[pid]SIPpTag00
      To: <sip:1004@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:1004@%[1]s>
      Expires: 300
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1004@[remote_ip]>;tag=[pid]SIPpTag00
      To: <sip:1004@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:1004@%[1]s>
      Expires: 300
      Max-Forwards: 70
      [authentication username=1004 password=pw1004]
      Content-Length: 0
  ]]></send>
  <recv response="200"/>
</scenario>
`
