package sdes_test

import (
	"fmt"

	"github.com/pion/srtp/v3"

	"github.com/tipring/tipring/sip/sdes"
)

// A Lync-style line: lifetime 2^31 packets and a one-byte MKI.
func ExampleParse() {
	c, err := sdes.Parse("2 AES_CM_128_HMAC_SHA1_80 inline:JTA7RlFcZ3J9iJOeqbS/ytXg6/YBDBciLThDTllk|2^31|1:1")
	if err != nil {
		panic(err)
	}
	profile, _ := c.Profile()
	k := c.Keys[0]
	fmt.Println(c.Tag, c.Suite, profile == srtp.ProtectionProfileAes128CmHmacSha1_80, len(k.MasterKey), len(k.MasterSalt), k.Lifetime, k.MKI, c.Check())
	// Output: 2 AES_CM_128_HMAC_SHA1_80 true 16 14 2147483648 [1] <nil>
}
