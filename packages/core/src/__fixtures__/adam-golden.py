# Records torch.optim.Adam on a fixed loss; output saved as adam-golden.json.
# Run: /usr/bin/python3 adam-golden.py > adam-golden.json
import torch, json
torch.manual_seed(0)
p = torch.tensor([0.5, -1.25, 2.0, 0.0, 3.5], dtype=torch.float32, requires_grad=True)
opt = torch.optim.Adam([p], lr=0.01)
out = []
for t in range(1, 6):
    opt.zero_grad()
    # a fixed non-quadratic loss so gradients change every step
    loss = (p ** 2 * torch.tensor([1.0, 2.0, 0.5, 3.0, 0.1])).sum() + torch.sin(p).sum()
    loss.backward()
    grads = p.grad.detach().clone().tolist()
    opt.step()
    out.append({"grad": grads, "param": p.detach().clone().tolist()})
print(json.dumps(out))
