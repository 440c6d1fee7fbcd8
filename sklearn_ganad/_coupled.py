"""Han et al.'s coupled GAN ensemble, for any method's model.

Han, Chen and Liu ("GAN Ensemble for Anomaly Detection", AAAI 2021) train
several generators (with their encoders) against several discriminators, so
that every generator gets feedback from every discriminator and none can
settle on the weak spots of one, and score a row by the mean of the scores
that the (generator, discriminator) pairs give. Their code pairs them in two
ways: every generator against every discriminator on each batch (EGBAD), or
one pair drawn at random per batch (GANomaly).
:class:`CoupledEnsembleModel` does it for any
:class:`~sklearn_ganad.AdversarialModel`, in between: it holds ``n`` copies
of the method's model (its members) and, for each batch, lends each member
the adversary networks of another, following a permutation drawn afresh per
batch. Every member steps on every batch, against one adversary, so a step
costs about ``n`` single steps (all pairs would cost ``n * n``; on two
ADBench tables it ranked no better, see the user guide).
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from ._net import AdversarialModel

__all__ = ["CoupledEnsembleModel"]


class CoupledEnsembleModel(AdversarialModel):
    """Several copies of one method's model, trained with shuffled adversaries.

    The players are the members' players: one optimizer per player covers
    that player's networks in every member, and each player's loss is the
    mean of the members' losses, the adversary networks (those of the
    players in the member's ``adversary_players``) lent according to a
    permutation drawn per batch from torch's random generator (on the CPU,
    so that training reads nothing back from the device). Adam is
    indifferent to the 1/n scale of the mean, so each member trains as it
    would alone, against a shuffled adversary.

    The anomaly score is the mean over every (member, adversary) pair, or
    over the members with their own adversaries where the model says so
    (``score_every_pair``); ``validation_loss`` is the members' mean,
    each with its own adversary.

    Parameters
    ----------
    members : list of AdversarialModel
        Two or more models of one class, built alike with different initial
        weights.
    """

    def __init__(self, members):
        super().__init__()
        if len(members) < 2 or len({type(m) for m in members}) != 1:
            raise ValueError("A coupled ensemble needs two or more models of one class.")
        self.members = nn.ModuleList(members)
        first = members[0]
        # Read by the net as declarations (see AdversarialModel): the members'.
        self.player_networks = dict(first.player_networks)
        self.main_player = first.main_player
        self.loss_terms = tuple(first.loss_terms)
        self.latent_dim = getattr(first, "latent_dim", None)
        self._adversary_modules = tuple(
            name
            for player in first.adversary_players
            for name in first.player_networks.get(player, ())
        )

    # -- what the net reads ---------------------------------------------------

    @property
    def active_players(self):
        """The members' active players (f-AnoGAN's stage applies to every member)."""
        return self.members[0].active_players

    @property
    def stage(self):
        """The members' training stage (f-AnoGAN); setting it sets every member's."""
        return self.members[0].stage

    @stage.setter
    def stage(self, value):
        for member in self.members:
            member.stage = value

    def update_every(self, player):
        """The members' schedule."""
        return self.members[0].update_every(player)

    def player_parameters(self, player):
        """Yield ``player``'s parameters in every member."""
        for index, member in enumerate(self.members):
            for name, param in member.player_parameters(player):
                yield f"members.{index}.{name}", param

    # -- training -------------------------------------------------------------

    @contextlib.contextmanager
    def _lent(self, member_index: int, adversary_index: int):
        """Member ``member_index`` with the adversary networks of ``adversary_index``."""
        if member_index == adversary_index or not self._adversary_modules:
            yield self.members[member_index]
            return
        member, lender = self.members[member_index], self.members[adversary_index]
        own = {name: getattr(member, name) for name in self._adversary_modules}
        try:
            for name in self._adversary_modules:
                setattr(member, name, getattr(lender, name))
            yield member
        finally:
            for name, module in own.items():
                setattr(member, name, module)

    def player_loss(self, player, x, handoff):
        """Mean of the members' losses, each against the adversary its batch's draw lends it."""
        n_members = len(self.members)
        if "pairing" not in handoff:
            # Drawn on the CPU: no device synchronisation per step.
            handoff["pairing"] = torch.randperm(n_members).tolist()
            handoff["members"] = [{} for _ in range(n_members)]
        total, sums = 0.0, {}
        for index, adversary in enumerate(handoff["pairing"]):
            with self._lent(index, adversary) as member:
                loss, terms = member.player_loss(player, x, handoff["members"][index])
            total = total + loss
            for name, value in terms.items():
                sums[name] = sums.get(name, 0.0) + value
        return total / n_members, {name: value / n_members for name, value in sums.items()}

    def after_losses_read(self, losses, net):
        """Each member's hook, on the members' mean losses."""
        changed = False
        for member in self.members:
            changed = member.after_losses_read(losses, net) or changed
        return changed

    # -- scoring --------------------------------------------------------------

    def _pairs(self):
        n_members = len(self.members)
        if self.members[0].score_every_pair and self._adversary_modules:
            return [(i, j) for i in range(n_members) for j in range(n_members)]
        return [(i, i) for i in range(n_members)]

    def validation_loss(self, x):
        """Mean of the members' held-out losses, each with its own adversary."""
        losses = [member.validation_loss(x) for member in self.members]
        return torch.stack(losses).mean()

    def anomaly_score(self, x):
        """Mean score over the (member, adversary) pairs."""
        scores = []
        for index, adversary in self._pairs():
            with self._lent(index, adversary) as member:
                scores.append(member.anomaly_score(x))
        return torch.stack(scores).mean(0)

    def reconstruct(self, x):
        """The first member's code and the members' mean reconstruction.

        The members' latent spaces differ, so their codes are not averaged.
        """
        codes, rebuilt = zip(*(member.reconstruct(x) for member in self.members), strict=True)
        return codes[0], torch.stack(rebuilt).mean(0)

    def score_parts(self, x):
        """Mean over the pairs of the members' per-feature terms and remainders."""
        pairs = self._pairs()
        parts = []
        for index, adversary in pairs:
            with self._lent(index, adversary) as member:
                parts.append(member.score_parts(x))
        # The members are of one class: all or none have per-feature terms,
        # and likewise a remainder.
        feature_terms = [terms for terms, _, _ in parts]
        mean_terms = None if feature_terms[0] is None else torch.stack(feature_terms).mean(0)
        remainders = [rest for _, rest, _ in parts]

        def remainder(points):
            values = []
            for (index, adversary), rest in zip(pairs, remainders, strict=True):
                with self._lent(index, adversary):
                    values.append(rest(points))
            return torch.stack(values).mean(0)

        reconstruction = torch.stack([rebuilt for _, _, rebuilt in parts]).mean(0)
        return mean_terms, (None if remainders[0] is None else remainder), reconstruction
