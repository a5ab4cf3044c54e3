package tokenizer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBytesChatTemplate(t *testing.T) {
	tok := Bytes{}
	s, err := tok.ApplyChatTemplate([]Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "hi"},
		{Role: "assistant", Content: "yo"}, {Role: "user", Content: "é?"}}, true)
	require.NoError(t, err)
	require.Equal(t, "S: be brief\nQ: hi\nA: yo\nQ: é?\nA: ", s)
	require.Equal(t, "é?", tok.Decode(append(tok.Encode("é?"), ByteEOS)))
	_, err = tok.ApplyChatTemplate([]Message{{Role: "robot", Content: "x"}}, false)
	require.ErrorContains(t, err, `unknown role "robot"`)
}
