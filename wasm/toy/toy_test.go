package toy

import (
	"testing"

	"github.com/gomlx/gomlx/backends"

	"github.com/stretchr/testify/require"
)

func pureGo(t *testing.T) backends.Backend {
	b, err := backends.NewWithConfig(Backend)
	require.NoError(t, err)
	return b
}

func TestTrainerLowersTheLossAndLogsTheDemoMetrics(t *testing.T) {
	tr, err := New(pureGo(t), "amopo", "gaussian", 1)
	require.NoError(t, err)
	defer tr.Close()
	var losses []float64
	for i := 0; i < 8; i++ {
		m, err := tr.Step()
		require.NoError(t, err)
		require.Equal(t, float64(i), m["step"])
		for _, d := range tr.Params.Dimensions {
			require.Contains(t, m, "weights/"+d+"_alpha")
			require.Contains(t, m, "rewards/"+d+"_margins")
		}
		losses = append(losses, m["loss"])
	}
	require.Less(t, losses[7], losses[0], "training lowers the loss")
}

func TestNewRejectsReferenceLossesAndUnknownPolicies(t *testing.T) {
	_, err := New(pureGo(t), "dpo", "gaussian", 1)
	require.ErrorContains(t, err, "needs a reference model")
	_, err = New(pureGo(t), "amopo", "dirichlet", 1)
	require.ErrorContains(t, err, `unknown weight policy "dirichlet"`)
}
